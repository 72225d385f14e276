"""Text mode: read lines of printed or handwritten characters on a plain background.

Characters are found by contours (threshold + edges, a small dilation, external contours, boxes),
small pieces (the dot of i/j, broken pen strokes) are joined to the glyph below or above them, the
boxes are ordered into lines and words (spaces from gaps), and classified in one batch by the
62-class model. A single crop cannot tell c from C or o from O; the line can, so the case of
shape-alike letters is decided from the glyph's height against the line's capitals.

`dual_channels` is the one binarization used by both the trainer and this reader when a model
takes the grey input and its binarized copy as two channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_ocr.classify import pad_box
from edge_ocr.preprocess import batch_inputs, guess_dark_on_light, to_gray
from edge_ocr.types import Box

# Letters whose upper and lower case differ (mostly) in size only; the line geometry decides.
CASE_BY_SIZE = set("cosuvwxzCOSUVWXZ")
SHORT_TOP = 0.22  # top of the glyph this far (x cap height) below the capitals' top means lowercase


@dataclass(frozen=True)
class FinderConfig:
    """Contour finder knobs, as fractions of the text height where sizes are involved."""

    canny_low: int = 50
    canny_high: int = 150
    dilate_px: int = 1
    min_area_px: int = 6
    noise_height: float = 0.2  # boxes below this x median height (and not joined) are specks
    join_small: float = 0.6  # a piece shorter than this x its neighbour may be joined to it
    space_gap: float = 0.38  # gap (x line height) that starts a new word
    space_vs_median: float = 2.2  # ... or this many times the usual letter gap, whichever is larger
    space_cap: float = 0.7  # ... but a gap this wide (x line height) is always a space


@dataclass(frozen=True)
class TextChar:
    char: str
    confidence: float
    box: Box

    def to_json(self) -> dict[str, Any]:
        return {"char": self.char, "confidence": round(self.confidence, 4), "box": self.box.as_list()}


@dataclass(frozen=True)
class TextWord:
    chars: tuple[TextChar, ...]

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)

    @property
    def box(self) -> Box:
        return union([c.box for c in self.chars])


@dataclass(frozen=True)
class TextLine:
    words: tuple[TextWord, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> Box:
        return union([w.box for w in self.words])

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": self.box.as_list(),
            "words": [
                {"text": w.text, "box": w.box.as_list(), "chars": [c.to_json() for c in w.chars]}
                for w in self.words
            ],
        }


@dataclass(frozen=True)
class TextRead:
    lines: tuple[TextLine, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "lines": [line.to_json() for line in self.lines]}


def union(boxes: Sequence[Box]) -> Box:
    x1, y1 = min(b.x for b in boxes), min(b.y for b in boxes)
    x2, y2 = max(b.x2 for b in boxes), max(b.y2 for b in boxes)
    return Box(x1, y1, x2 - x1, y2 - y1)


def binarize_input(x: np.ndarray) -> np.ndarray:
    """Otsu-binarize one preprocessed (S, S) float input (bright ink on dark) to {0, 1} float32."""
    u8 = np.clip(x * 255.0, 0, 255).astype(np.uint8)
    if int(u8.max()) == int(u8.min()):
        return np.zeros_like(x, np.float32)
    _, b = cv2.threshold(u8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return b.astype(np.float32)


def dual_channels(batch: np.ndarray) -> np.ndarray:
    """(N, S, S, 1) grey inputs -> (N, S, S, 2): grey and its binarized copy (training and inference)."""
    binary = np.stack([binarize_input(img[..., 0]) for img in batch]) if len(batch) else batch[..., 0]
    return np.concatenate([batch, binary[..., None].astype(np.float32)], axis=-1)


def ink_mask(gray: np.ndarray, dark_on_light: bool, cfg: FinderConfig) -> np.ndarray:
    """Otsu ink OR Canny edges (catches faint strokes Otsu drops), then a small vertical dilation.

    Vertical only: it closes pen lifts and thin joins inside a glyph without welding neighbours
    that stand one or two pixels apart (tight letter spacing).
    """
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    mode = cv2.THRESH_BINARY_INV if dark_on_light else cv2.THRESH_BINARY
    _, ink = cv2.threshold(blur, 0, 255, mode + cv2.THRESH_OTSU)
    edges = cv2.Canny(blur, cfg.canny_low, cfg.canny_high)
    mask = cv2.bitwise_or(ink, edges)
    k = 2 * cfg.dilate_px + 1
    return cv2.dilate(mask, np.ones((k, 1), np.uint8)) if cfg.dilate_px > 0 else mask


def contour_boxes(mask: np.ndarray, cfg: FinderConfig) -> list[Box]:
    """External contours' boxes, shrunk back (vertically) by the dilation so they hug the ink."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    d = cfg.dilate_px
    out = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if w * h >= cfg.min_area_px and h > 2 * d:
            out.append(Box(x, y + d, w, h - 2 * d))
    return out


def _join_partner(i: int, boxes: list[Box], cfg: FinderConfig) -> int | None:
    """The nearest larger box that piece i sits above or below (dot of i/j, a broken stroke)."""
    b, best, best_gap = boxes[i], None, float("inf")
    for j, o in enumerate(boxes):
        if j == i or b.h >= cfg.join_small * o.h:
            continue
        overlap = min(b.x2, o.x2) - max(b.x, o.x)
        gap = max(o.y - b.y2, b.y - o.y2)
        if overlap >= 0.5 * min(b.w, o.w) and gap < 0.6 * o.h and gap < best_gap:
            best, best_gap = j, gap
    return best


def join_pieces(boxes: list[Box], cfg: FinderConfig) -> list[Box]:
    """Merge small pieces into the glyph they belong to, then drop the remaining specks."""
    boxes = sorted(boxes, key=lambda b: b.area)
    i = 0
    while i < len(boxes):
        j = _join_partner(i, boxes, cfg)
        if j is None:
            i += 1
            continue
        merged = union([boxes[i], boxes[j]])
        boxes = [b for k, b in enumerate(boxes) if k not in (i, j)] + [merged]
        boxes.sort(key=lambda b: b.area)
        i = 0
    if not boxes:
        return []
    med = float(np.median([b.h for b in boxes]))
    return [b for b in boxes if b.h >= cfg.noise_height * med]


def group_lines(boxes: list[Box]) -> list[list[Box]]:
    """Left-to-right sweep: a box joins the line whose last box it overlaps most vertically."""
    lines: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: b.x):
        best, best_ov = None, 0.3
        for line in lines:
            last = line[-1]
            ov = (min(b.y2, last.y2) - max(b.y, last.y)) / max(1, min(b.h, last.h))
            if ov > best_ov:
                best, best_ov = line, ov
        if best is None:
            lines.append([b])
        else:
            best.append(b)
    return sorted(lines, key=lambda line: float(np.median([b.center[1] for b in line])))


def split_words(line: list[Box], cfg: FinderConfig) -> list[list[Box]]:
    """A gap wider than a fraction of the line height (and than the usual letter gap) is a space."""
    if len(line) < 2:
        return [line]
    ref_h = float(np.percentile([b.h for b in line], 75))
    gaps = [b.x - a.x2 for a, b in zip(line, line[1:], strict=False)]
    letter_gap = float(np.percentile(gaps, 25))  # most gaps are between letters of a word
    thr = min(max(cfg.space_gap * ref_h, cfg.space_vs_median * letter_gap), cfg.space_cap * ref_h)
    words, cur = [], [line[0]]
    for gap, b in zip(gaps, line[1:], strict=True):
        if gap > thr:
            words.append(cur)
            cur = []
        cur.append(b)
    return [*words, cur]


def find_text_boxes(gray: np.ndarray, cfg: FinderConfig, dark_on_light: bool) -> list[list[list[Box]]]:
    """Lines -> words -> character boxes, reading order."""
    boxes = join_pieces(contour_boxes(ink_mask(gray, dark_on_light, cfg), cfg), cfg)
    return [split_words(line, cfg) for line in group_lines(boxes)]


def top_offsets(line: list[Box]) -> np.ndarray:
    """Per box: how far its top lies below the capitals' top line, in units of the cap height.

    The baseline is a least-squares line through the boxes' bottoms (slight rotation allowed), the
    cap height the 75th percentile of heights; descenders barely move either.
    """
    xs = np.array([b.center[0] for b in line], np.float64)
    bottoms = np.array([b.y2 for b in line], np.float64)
    slope, icpt = np.polyfit(xs, bottoms, 1) if len(line) >= 3 else (0.0, float(np.median(bottoms)))
    cap = float(np.percentile([b.h for b in line], 75))
    cap_top = slope * xs + icpt - cap
    return (np.array([b.y for b in line], np.float64) - cap_top) / max(cap, 1.0)


def resolve_case(
    labels: list[str], probs: np.ndarray, offsets: np.ndarray, names: Sequence[str]
) -> list[str]:
    """Shape-alike letters take their case from the line: short glyph -> lowercase, tall -> upper."""
    index = {c: i for i, c in enumerate(names)}
    out = []
    for lab, p, off in zip(labels, probs, offsets, strict=True):
        short = off > SHORT_TOP
        if lab in "oO0" and {"o", "O", "0"} <= index.keys():
            lab = "o" if short else ("O" if p[index["O"]] + p[index["o"]] >= p[index["0"]] else "0")
        elif lab in CASE_BY_SIZE:
            lab = lab.lower() if short else lab.upper()
        out.append(lab)
    return out


def confidence(label: str, p: np.ndarray, names: Sequence[str]) -> float:
    """Probability of the read label; for a case set by geometry, both cases' mass (the shape's)."""
    index = {c: i for i, c in enumerate(names)}
    twins = {label, label.swapcase()} if label in CASE_BY_SIZE else {label}
    return float(sum(p[index[c]] for c in twins if c in index))


class TextReader:
    """62-class model + contour finder: an image in, lines of words of characters out."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        backend: str = "tflite",
        fmt: str = "int8",
        threads: int = 1,
        cfg: FinderConfig = FinderConfig(),
    ) -> None:
        from edge_ocr.models import ModelSpec
        from edge_ocr.paths import default_model_dir

        self.spec = ModelSpec.load(model_dir or default_model_dir("chars62"), fmt, backend)
        self.backend = self.spec.open_backend(threads)
        self.dual = self.spec.card.get("input", {}).get("channels", 1) == 2
        self.cfg = cfg

    def scores(self, gray: np.ndarray, boxes: Sequence[Box], dark_on_light: bool) -> np.ndarray:
        crops = []
        for b in boxes:
            p = pad_box(b, gray.shape)
            crops.append(gray[p.y : p.y2, p.x : p.x2])
        x = batch_inputs(crops, self.spec.preprocess, dark_on_light)
        return self.backend.run(dual_channels(x) if self.dual else x)

    def read(self, image: np.ndarray) -> TextRead:
        gray = to_gray(image)
        dol = guess_dark_on_light(gray)
        layout = find_text_boxes(gray, self.cfg, dol)
        flat = [b for line in layout for word in line for b in word]
        if not flat:
            return TextRead(())
        probs = self.scores(gray, flat, dol)
        names = self.spec.labels
        lines, k = [], 0
        for line in layout:
            boxes = [b for w in line for b in w]
            p = probs[k : k + len(boxes)]
            labels = resolve_case([names[int(i)] for i in p.argmax(1)], p, top_offsets(boxes), names)
            chars = [
                TextChar(lab, confidence(lab, p[i], names), b)
                for i, (lab, b) in enumerate(zip(labels, boxes, strict=True))
            ]
            words, j = [], 0
            for w in line:
                words.append(TextWord(tuple(chars[j : j + len(w)])))
                j += len(w)
            lines.append(TextLine(tuple(words)))
            k += len(boxes)
        return TextRead(tuple(lines))
