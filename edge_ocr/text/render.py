"""Render test pages of text lines with known content: printed from font files, or handwritten from
Chars74K EnglishHnd pen strokes. Used by the text-mode tests and the model card's text-mode figures.

Pages are random character strings (not words of a language, so no dictionary helps), with varied
size, letter spacing, word gaps and a slight rotation. Handwritten glyphs keep their natural size
(the strokes are in tablet units), stand on a common baseline, and descenders hang below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge_ocr.types import CHARS62

DESCENDERS = set("gjpqy")
HND_UNITS_PER_CAP = 330.0  # typical capital height of the EnglishHnd strokes in tablet units


@dataclass(frozen=True)
class Page:
    image: np.ndarray  # grey uint8, dark ink on a light background
    lines: tuple[str, ...]  # ground truth, words separated by one space


def random_lines(rng: np.random.Generator, n_lines: int, alphabet: str = CHARS62) -> list[str]:
    """Random 'words' of 1-6 characters, 2-4 per line."""
    lines = []
    for _ in range(n_lines):
        words = [
            "".join(rng.choice(list(alphabet), int(rng.integers(1, 7))))
            for _ in range(int(rng.integers(2, 5)))
        ]
        lines.append(" ".join(words))
    return lines


def _rotate(img: np.ndarray, angle: float, bg: int) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=bg)


def _finish(canvas: np.ndarray, rng: np.random.Generator, max_angle: float) -> np.ndarray:
    """Ink coverage [0,1] -> grey page with random paper/ink tones, slight rotation, mild noise."""
    bg, fg = float(rng.uniform(200, 255)), float(rng.uniform(0, 70))
    page = bg * (1 - canvas) + fg * canvas
    page = _rotate(page.astype(np.float32), float(rng.uniform(-max_angle, max_angle)), int(bg))
    page = page + rng.normal(0, 3.0, page.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def render_printed(
    lines: Sequence[str], font: Path, rng: np.random.Generator, max_angle: float = 2.0
) -> Page:
    """One font for the page, cap height 18-44 px, letter spacing 0.06-0.3 and word gaps 0.7-1.1 caps."""
    cap = int(rng.integers(18, 45))
    pil = ImageFont.truetype(str(font), int(cap * 1.4))
    track, space = float(rng.uniform(0.06, 0.3)) * cap, float(rng.uniform(0.7, 1.1)) * cap
    width = (
        int(max(sum(pil.getlength(c) + track for c in line) + space * line.count(" ") for line in lines))
        + 4 * cap
    )
    lh = int(cap * 2.4)
    img = Image.new("L", (width, lh * len(lines) + 2 * cap), 0)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        x, base = 2.0 * cap, cap + lh * i + 1.6 * cap
        for ch in line:
            if ch == " ":
                x += space
                continue
            draw.text((x, base), ch, font=pil, fill=255, anchor="ls")
            x += pil.getlength(ch) + track
    canvas = np.asarray(img, np.float32) / 255.0
    return Page(_finish(canvas, rng, max_angle), tuple(lines))


def _stroke_glyph(strokes: Sequence[Sequence[Sequence[float]]], scale: float, thick: int) -> np.ndarray:
    pts = [np.asarray(s, np.float32).reshape(-1, 2) for s in strokes if len(s)]
    allp = np.concatenate(pts)
    lo = allp.min(0)
    size = np.ceil((allp.max(0) - lo) * scale).astype(int) + 2 * thick + 2
    img = np.zeros((int(size[1]), int(size[0])), np.uint8)
    for p in pts:
        q = np.round((p - lo) * scale + thick + 1).astype(np.int32)
        cv2.polylines(img, [q], False, 255, thick, cv2.LINE_AA)
    return img


def render_handwritten(
    lines: Sequence[str],
    strokes: Mapping[str, Sequence[Sequence[Sequence[Sequence[float]]]]],
    rng: np.random.Generator,
    max_angle: float = 2.0,
) -> Page:
    """Each character drawn from a random sample in `strokes` (char -> list of samples of strokes)."""
    cap = int(rng.integers(28, 56))
    scale, thick = cap / HND_UNITS_PER_CAP, int(rng.integers(2, 4))
    glyphs = [
        [
            _stroke_glyph(strokes[c][int(rng.integers(len(strokes[c])))], scale, thick) if c != " " else None
            for c in line
        ]
        for line in lines
    ]
    space, track = float(rng.uniform(0.8, 1.2)) * cap, float(rng.uniform(0.15, 0.35)) * cap
    width = (
        int(max(sum((g.shape[1] + track) if g is not None else space for g in row) for row in glyphs))
        + 4 * cap
    )
    lh = int(cap * 2.6)
    canvas = np.zeros((lh * len(lines) + 2 * cap, width), np.float32)
    for i, (line, row) in enumerate(zip(lines, glyphs, strict=True)):
        x, base = 2.0 * cap, cap + lh * i + 1.6 * cap
        for ch, g in zip(line, row, strict=True):
            if g is None:
                x += space
                continue
            gh, gw = g.shape
            bottom = base + (0.35 * gh if ch in DESCENDERS else 0)
            y0 = int(round(bottom - gh))
            canvas[y0 : y0 + gh, int(x) : int(x) + gw] = np.maximum(
                canvas[y0 : y0 + gh, int(x) : int(x) + gw], g / 255.0
            )
            x += gw + track
    return Page(_finish(canvas, rng, max_angle), tuple(lines))


@dataclass(frozen=True)
class PageScore:
    chars: int  # ground-truth characters (spaces not counted)
    char_errors: int  # edit distance summed over lines
    words: int
    words_right: int

    @property
    def char_accuracy(self) -> float:
        return max(0.0, 1.0 - self.char_errors / self.chars) if self.chars else 1.0

    @property
    def word_accuracy(self) -> float:
        return self.words_right / self.words if self.words else 1.0

    def __add__(self, o: PageScore) -> PageScore:
        return PageScore(
            self.chars + o.chars,
            self.char_errors + o.char_errors,
            self.words + o.words,
            self.words_right + o.words_right,
        )


def score_page(truth: Sequence[str], read: Sequence[str]) -> PageScore:
    """Lines matched in order (missing lines read as empty, extra lines count as insertions);
    characters by edit distance without spaces; words right when equal at the same position."""
    from edge_ocr.types import edit_distance

    n = max(len(truth), len(read))
    t = [*truth, *[""] * (n - len(truth))]
    r = [*read, *[""] * (n - len(read))]
    errors = sum(edit_distance(b.replace(" ", ""), a.replace(" ", "")) for a, b in zip(t, r, strict=True))
    words = sum(len(a.split()) for a in t)
    right = sum(
        sum(x == y for x, y in zip(a.split(), b.split(), strict=False)) for a, b in zip(t, r, strict=True)
    )
    return PageScore(sum(len(a.replace(" ", "")) for a in t), errors, words, right)


HND_TEST_WRITER_FROM = 47  # EnglishHnd writers 47-54 are held out of training (convert/chars62.py)


def held_out_strokes(root: Path | None = None) -> dict[str, list[list[list[list[float]]]]]:
    """EnglishHnd samples of the held-out writers only: char -> samples (lists of strokes)."""
    import json

    from edge_ocr.errors import SourceError
    from edge_ocr.paths import data_root

    f = data_root(root) / "chars74k" / "hnd" / "char74k.json"
    if not f.exists():
        raise SourceError(f"data file not found: {f}")
    data = json.loads(f.read_text())
    return {c: [s for i, s in enumerate(v) if i >= HND_TEST_WRITER_FROM and any(s)] for c, v in data.items()}


def make_pages(
    kind: str, n: int, seed: int, fonts: Sequence[Path] = (), strokes: Mapping | None = None
) -> list[Page]:
    """n seeded pages of 1-3 random lines; printed pages cycle through `fonts`."""
    rng = np.random.default_rng(seed)
    pages = []
    for i in range(n):
        lines = random_lines(rng, int(rng.integers(1, 4)))
        if kind == "printed":
            pages.append(render_printed(lines, fonts[i % len(fonts)], rng))
        else:
            pages.append(render_handwritten(lines, strokes or {}, rng))
    return pages
