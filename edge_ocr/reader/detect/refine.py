"""The learned detector's boxes refined to their character rows (`cnn`, the default with a model).

The CNN says where a plate is, surely and in a few milliseconds, but only as an axis-aligned box; the
reader wants the plate's row of characters, rectified, with the glyph boxes as a hint. So each box
(best first) is cut from the frame with a margin, scaled so the plate is about `plate_h` pixels tall
(the character-line finder's glyph range then fits every plate size), and the line finder looks for
the row inside it. A box where it finds none is still read, cut as the box itself: the reader's
segmenter and classifier judge it like any crop. A box where it finds one carries the box as a second
cut: the row may have lost an end character that the box kept, so when the row's read fits no region
pattern the Reader reads the box too and keeps the better read. The cost follows the number of plates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from edge_ocr.preprocess import to_gray
from edge_ocr.reader.detect.cnn import CnnDetector, Proposal
from edge_ocr.reader.detect.geometry import bounding_box, rectify
from edge_ocr.reader.detect.lines import CharLineConfig, CharLineDetector
from edge_ocr.types import Box, PlateRegion, Point

Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class RefineParams:
    pad_x: float = 0.3  # box widths added at each side before the row is searched
    pad_y: float = 0.6  # box heights added above and below
    plate_h: float = 48.0  # the box is scaled to about this height for the line finder
    min_inside: float = 0.5  # share of a found row's box that must lie inside the CNN box
    box_margin: float = 0.08  # a box read as it is grows by this share of its size at each side
    # a found row also carries the box itself as its alternate cut (PlateRegion.alternate): on held-out
    # crops composited into plate-free frames (fusion_photos, half 0) the row's first read was exact on
    # 252 of 430, the box's on 244, either on 283; the better of both 267, of both where the row's read
    # fits no pattern (pipeline.py: half the reading time) 266; session 18: the fused reader reads both
    # always and keeps the likelier by the sequence model (fusion.choose_cut)
    read_box_too: bool = True


class CnnLineDetector:
    """PlateDetector: CnnDetector proposals, each refined by CharLineDetector inside it."""

    colour = True  # the network reads the frame in colour: the Reader hands it the frame itself

    def __init__(self, cnn: CnnDetector, params: RefineParams | None = None) -> None:
        self.cnn = cnn
        self.params = params or RefineParams()
        self.lines = CharLineDetector(CharLineConfig(levels=2, max_proposals=4))

    def detect(self, image: np.ndarray) -> list[PlateRegion]:
        """Refined plate regions, in the CNN's order (its score is each region's score)."""
        gray = to_gray(np.asarray(image))
        return [self.refine(gray, p) for p in self.propose(image)]

    def detect_rescue(self, image: np.ndarray, rescue: float) -> list[PlateRegion]:
        """`detect`, or where it finds nothing, the best box down to score `rescue`, refined to its row
        (no second cut) and marked `rescued`. One network pass."""
        gray = to_gray(np.asarray(image))
        found, low = self.cnn.propose_or_rescue(image, rescue)
        rescued = [replace(self.refine(gray, p), alternate=None, rescued=True) for p in low]
        return [self.refine(gray, p) for p in found] + rescued

    def propose(self, image: np.ndarray) -> list[Proposal]:
        """The CNN's boxes alone (the network pass), best first: `detect` without refinement."""
        return self.cnn.propose(image)

    def refine(self, gray: np.ndarray, p: Proposal) -> PlateRegion:
        """The character row inside proposal `p` (of the same frame as `gray`), or the box itself."""
        q = self.params
        fh, fw = gray.shape[:2]
        x0, y0 = max(0, int(p.x - q.pad_x * p.w)), max(0, int(p.y - q.pad_y * p.h))
        x1, y1 = min(fw, int(p.x + p.w * (1 + q.pad_x)) + 1), min(fh, int(p.y + p.h * (1 + q.pad_y)) + 1)
        s = q.plate_h / max(p.h, 1.0)
        window = gray[y0:y1, x0:x1]
        if window.size == 0:
            return _as_box(gray, p, q.box_margin)
        size = (max(1, int(round(window.shape[1] * s))), max(1, int(round(window.shape[0] * s))))
        small = cv2.resize(window, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        inner = Box(int((p.x - x0) * s), int((p.y - y0) * s), int(p.w * s), int(p.h * s))
        for r in self.lines.detect(small):
            if _inside(r.box, inner) >= q.min_inside:
                row = _to_frame(gray, r, (x0, y0), s, p.score)
                return replace(row, alternate=_as_box(gray, p, q.box_margin)) if q.read_box_too else row
        return _as_box(gray, p, q.box_margin)


def _inside(a: Box, b: Box) -> float:
    """Share of `a`'s area that lies inside `b`."""
    w = min(a.x2, b.x2) - max(a.x, b.x)
    h = min(a.y2, b.y2) - max(a.y, b.y)
    return max(0, w) * max(0, h) / max(a.area, 1)


def _to_frame(
    gray: np.ndarray, r: PlateRegion, origin: tuple[int, int], s: float, score: float
) -> PlateRegion:
    """A row found in the scaled window, cut again from the frame at full resolution."""
    ox, oy = origin
    c = r.corners
    corners: Quad = (
        (ox + c[0][0] / s, oy + c[0][1] / s),
        (ox + c[1][0] / s, oy + c[1][1] / s),
        (ox + c[2][0] / s, oy + c[2][1] / s),
        (ox + c[3][0] / s, oy + c[3][1] / s),
    )
    crop, _ = rectify(gray, corners)
    box = bounding_box(corners, gray.shape[1], gray.shape[0])
    # The crop keeps its height and, up to rounding, its width: the glyph hint still fits then.
    hint = r.char_boxes if crop.shape == r.crop.shape else ()
    return PlateRegion(box, corners, crop, score, hint)


def _as_box(gray: np.ndarray, p: Proposal, margin: float) -> PlateRegion:
    """The proposal itself as a plate, a little wider (a box cut at the characters loses ends)."""
    mx, my = margin * p.w, margin * p.h
    corners: Quad = (
        (p.x - mx, p.y - my),
        (p.x + p.w + mx, p.y - my),
        (p.x + p.w + mx, p.y + p.h + my),
        (p.x - mx, p.y + p.h + my),
    )
    crop, _ = rectify(gray, corners)
    return PlateRegion(bounding_box(corners, gray.shape[1], gray.shape[0]), corners, crop, p.score, ())
