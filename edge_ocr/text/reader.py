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

from edge_ocr.preprocess import batch_inputs, guess_dark_on_light, to_gray
from edge_ocr.reader.classify import pad_box
from edge_ocr.text.layout import FinderConfig, find_text_boxes, top_offsets, union
from edge_ocr.types import Box

# Letters whose upper and lower case differ (mostly) in size only; the line geometry decides.
CASE_BY_SIZE = set("cosuvwxzCOSUVWXZ")
SHORT_TOP = 0.1  # top this far (x cap height) below the capitals' top: lowercase (bold x-heights reach 0.8)
TALL_TOP = -0.035  # top this far above the capitals' top: an ascender, so a bar is l rather than I


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


def short_threshold(labels: Sequence[str], offsets: np.ndarray) -> float:
    """How far below the cap line a lowercase top must be: wider when the line's capitals and
    digits scatter (handwriting) than when they are level (print)."""
    ref = [
        o
        for lab, o in zip(labels, offsets, strict=True)
        if (lab.isupper() or lab.isdigit()) and lab not in CASE_BY_SIZE and lab not in "I1"
    ]
    if len(ref) < 3:
        return 2 * SHORT_TOP
    spread = 1.4826 * float(np.median(np.abs(np.array(ref) - np.median(ref))))
    return float(np.clip(3.0 * spread, SHORT_TOP, 0.35))


def resolve_case(
    labels: list[str], probs: np.ndarray, offsets: np.ndarray, names: Sequence[str]
) -> list[str]:
    """Shape-alike letters take their case from the line: short glyph -> lowercase, tall -> upper;
    a bar reaching above the capitals is l (ascender), one level with them is I."""
    index = {c: i for i, c in enumerate(names)}
    thr = short_threshold(labels, offsets)
    out = []
    for lab, p, off in zip(labels, probs, offsets, strict=True):
        short = off > thr
        if lab in "oO0" and {"o", "O", "0"} <= index.keys():
            lab = "o" if short else ("O" if p[index["O"]] + p[index["o"]] >= p[index["0"]] else "0")
        elif lab in CASE_BY_SIZE:
            lab = lab.lower() if short else lab.upper()
        elif lab in "Il":
            lab = "l" if off < TALL_TOP else "I"
        out.append(lab)
    return out


def confidence(label: str, p: np.ndarray, names: Sequence[str]) -> float:
    """Probability of the read label; for a case set by geometry, both cases' mass (the shape's)."""
    index = {c: i for i, c in enumerate(names)}
    twins = {label, label.swapcase()} if label in CASE_BY_SIZE else ({"I", "l"} if label in "Il" else {label})
    return float(sum(p[index[c]] for c in twins if c in index))


class TextReader:
    """62-class model + contour finder: an image in, lines of words of characters out."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        backend: str = "tflite",
        fmt: str = "int8",
        threads: int = 1,
        cfg: FinderConfig | None = None,
    ) -> None:
        from edge_ocr.models import ModelSpec
        from edge_ocr.paths import default_model_dir

        self.spec = ModelSpec.load(model_dir or default_model_dir("chars62"), fmt, backend)
        self.backend = self.spec.open_backend(threads)
        self.dual = self.spec.card.get("input", {}).get("channels", 1) == 2
        self.cfg = cfg or FinderConfig()

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
