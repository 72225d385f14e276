"""Where the sequence model looks in a plate crop: around the characters the contour reader found.

plate-seq v1 learnt the labeller's crop framing: held-out NYC crops read 86.5 % as labelled but
34.8 % with 10 % wider / 25 % taller margins, so on crops cut by a detector or another labeller it
reads far worse. Framing the input by our own segmenter makes it canonical: the box around the
contour reader's characters, widened by margins measured in character heights, is the same thing
whoever cut the crop. Training (convert/sequence) and the device call this one function, so the
two cannot drift apart. A model card's `input.framing` says which framing a model expects
("chars": this module; "crop", or absent: the crop as given, the older models' way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_ocr.types import CharPrediction

FRAMINGS = ("crop", "chars")


@dataclass(frozen=True)
class FrameParams:
    """Margins around the characters' box, in median character heights, and when to give up."""

    above: float = 0.3  # above the top row and below the bottom row
    beside: float = 0.6  # left and right: a character the segmenter dropped at an end stays inside
    min_chars: int = 3  # fewer characters found: the whole crop is used (the segmenter is lost)
    min_side: int = 8  # a frame narrower or lower than this (pixels) falls back to the whole crop


@dataclass(frozen=True)
class SeqFrame:
    """A region of the crop (pixels, end-exclusive), its rows and the row boundary inside it."""

    x0: int
    y0: int
    x1: int
    y1: int
    rows: int = 1
    split: float = 0.5  # row boundary as a fraction of the frame's height (two-row plates)
    whole: bool = False  # the fallback: the whole crop


def rows_of(chars: Sequence[CharPrediction]) -> int:
    """1 or 2: the model lays at most two rows side by side."""
    return min(2, 1 + max((c.row for c in chars), default=0))


def whole_crop(shape: tuple[int, ...], chars: Sequence[CharPrediction]) -> SeqFrame:
    """The older framing: the crop as given, rows from the characters, boundary at mid-height."""
    return SeqFrame(0, 0, int(shape[1]), int(shape[0]), rows_of(chars), 0.5, True)


def char_frame(
    chars: Sequence[CharPrediction], shape: tuple[int, ...], p: FrameParams | None = None
) -> SeqFrame:
    """The box around `chars` (crop coordinates) widened by the margins of `p`, clamped to the crop.

    Two rows (some char with row 1): the frame spans both and `split` falls midway between the
    top row's lowest bottom edge and the bottom row's highest top edge.
    """
    p = p or FrameParams()
    h_img, w_img = int(shape[0]), int(shape[1])
    if len(chars) < p.min_chars:
        return whole_crop(shape, chars)
    boxes = np.array([(c.box.x, c.box.y, c.box.x2, c.box.y2) for c in chars], np.float64)
    ch = float(np.median(boxes[:, 3] - boxes[:, 1]))
    x0 = max(0, int(np.floor(boxes[:, 0].min() - p.beside * ch)))
    x1 = min(w_img, int(np.ceil(boxes[:, 2].max() + p.beside * ch)))
    y0 = max(0, int(np.floor(boxes[:, 1].min() - p.above * ch)))
    y1 = min(h_img, int(np.ceil(boxes[:, 3].max() + p.above * ch)))
    if x1 - x0 < p.min_side or y1 - y0 < p.min_side:
        return whole_crop(shape, chars)
    rows = rows_of(chars)
    split = 0.5
    if rows == 2:
        top = [c.box.y2 for c in chars if c.row == 0]
        bottom = [c.box.y for c in chars if c.row >= 1]
        if top and bottom:
            split = ((max(top) + min(bottom)) / 2.0 - y0) / (y1 - y0)
        else:  # only a second row was kept: read it as one line
            rows = 1
    return SeqFrame(x0, y0, x1, y1, rows, float(split))


def frame_for(
    framing: str, chars: Sequence[CharPrediction], shape: tuple[int, ...], p: FrameParams | None = None
) -> SeqFrame:
    """The frame a model with card framing `framing` expects ("chars" or "crop")."""
    return char_frame(chars, shape, p) if framing == "chars" else whole_crop(shape, chars)


def cut(image: np.ndarray, f: SeqFrame) -> np.ndarray:
    """The frame's pixels (a view, no copy)."""
    return image[f.y0 : f.y1, f.x0 : f.x1]
