"""The rectify stage: from a detector's PlateRegion to the views a line is read in.

A detector's crop is cut close to its row of characters. Gap filling also needs a view cut wider
(end characters the crop left out) and, when the frame has colour, the same view in colour (the
ink test); a read one character short is read again in a crop widened along its row. All of them
are rectified once here, and character boxes are mapped back to frame pixels here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from edge_ocr.reader.detect.geometry import CROP_HEIGHT, PlateGeometry, bounding_box, rectify
from edge_ocr.types import Box, CharBox, CharPrediction, PlateRegion, Point

Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class LineView:
    """Where gap filling looks: the same row as the crop, maybe cut wider (`shift` columns added
    on the left), in grey and, when the source had colour, in colour."""

    gray: np.ndarray
    shift: int = 0
    colour: np.ndarray | None = None


def colour_of(image: np.ndarray) -> np.ndarray | None:
    return image if image.ndim == 3 and image.shape[2] >= 3 else None


def rectified(colour: np.ndarray | None, corners: Quad) -> np.ndarray | None:
    return None if colour is None else rectify(colour, corners)[0]


def shifted(c: CharPrediction, dx: int) -> CharPrediction:
    return c if dx == 0 else replace(c, box=c.box.offset(dx, 0))


def wide_view(gray: np.ndarray, colour: np.ndarray | None, r: PlateRegion, glyphs: float) -> LineView | None:
    """The view gap filling reads a detected region in: its row `glyphs` glyph heights wider at
    each end (None when `glyphs` is 0: the crop itself)."""
    if glyphs <= 0:
        return None
    wide, shift = widened(gray, r, glyphs)
    return LineView(wide.crop, shift, rectified(colour, wide.corners))


def widen_region(gray: np.ndarray, r: PlateRegion, glyphs: float) -> PlateRegion:
    """The region's crop extended along its row by `glyphs` glyph heights at each end."""
    return widened(gray, r, glyphs)[0]


def widened(gray: np.ndarray, r: PlateRegion, glyphs: float) -> tuple[PlateRegion, int]:
    """`widen_region`, and the crop columns added on the left (its hint boxes moved by as much)."""
    tl, tr, br, bl = r.corners
    h = math.hypot(bl[0] - tl[0], bl[1] - tl[1])
    w = math.hypot(tr[0] - tl[0], tr[1] - tl[1])
    if h <= 0 or w <= 0:
        return r, 0
    d = glyphs * h / PlateGeometry().height_per_glyph  # frame pixels added at each end
    ux, uy = (tr[0] - tl[0]) / w * d, (tr[1] - tl[1]) / w * d
    corners: Quad = (
        (tl[0] - ux, tl[1] - uy),
        (tr[0] + ux, tr[1] + uy),
        (br[0] + ux, br[1] + uy),
        (bl[0] - ux, bl[1] - uy),
    )
    crop, _ = rectify(gray, corners)
    shift = int(round(d * CROP_HEIGHT / h))
    hint = tuple(CharBox(c.box.offset(shift, 0), c.row, c.dark_on_light) for c in r.char_boxes)
    box = bounding_box(corners, gray.shape[1], gray.shape[0])
    return PlateRegion(box=box, corners=corners, crop=crop, score=r.score, char_boxes=hint), shift


def to_frame(c: CharPrediction, shape: tuple[int, ...], quad: Quad) -> CharPrediction:
    """Map a char box from rectified-crop pixels to frame pixels through the crop's homography."""
    h, w = shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, np.array(quad, np.float32))
    b = c.box
    pts = np.array([[b.x, b.y], [b.x2, b.y], [b.x2, b.y2], [b.x, b.y2]], np.float32).reshape(-1, 1, 2)
    q = cv2.perspectiveTransform(pts, m).reshape(-1, 2)
    x1, y1 = np.floor(q.min(axis=0)).astype(int)
    x2, y2 = np.ceil(q.max(axis=0)).astype(int)
    return CharPrediction(
        c.char, c.confidence, Box(int(x1), int(y1), int(x2 - x1), int(y2 - y1)), c.topk, c.row
    )


def upscale(region: PlateRegion, gray: np.ndarray, small_shape: tuple[int, ...]) -> PlateRegion:
    """A region found on the small view, cut again from the full-resolution frame."""
    sy, sx = gray.shape[0] / small_shape[0], gray.shape[1] / small_shape[1]
    c = region.corners
    corners: Quad = (
        (c[0][0] * sx, c[0][1] * sy),
        (c[1][0] * sx, c[1][1] * sy),
        (c[2][0] * sx, c[2][1] * sy),
        (c[3][0] * sx, c[3][1] * sy),
    )
    crop, _ = rectify(gray, corners)
    box = bounding_box(corners, gray.shape[1], gray.shape[0])
    # The crop has the same height and nearly the same width, so the glyph hint still fits when
    # both axes scale alike; otherwise the segmenter works alone.
    hint = region.char_boxes if abs(sx - sy) < 0.02 * sx and crop.shape == region.crop.shape else ()
    alt = upscale(region.alternate, gray, small_shape) if region.alternate is not None else None
    return PlateRegion(box, corners, crop, region.score, hint, alt)
