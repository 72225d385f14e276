"""From a line of glyph boxes to a plate: oriented rectangle, rectified crop, line score.

The plate outline is not searched for (borders are often invisible on light cars); it is
inferred from the characters with plate geometry common to US, EU and BR standards: glyphs are
about half the plate height (US 3 in of 6 in, BR 63 mm of 130 mm; EU 75 of 110 mm is taller)
and leave a margin of roughly half a glyph height at each end of the row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge_ocr.types import Box, CharBox, Point

CROP_HEIGHT = 64  # canonical height of the rectified plate crop handed to the reader


@dataclass(frozen=True)
class PlateGeometry:
    height_per_glyph: float = 1.9  # plate height / glyph height
    end_margin: float = 0.55  # plate margin at each end of the row, in glyph heights
    min_aspect: float = 2.0  # no plate is squarer than a US one (12 x 6 in); covers partial rows
    # The crop handed to the reader stops closer to the glyphs than the plate outline does: a US
    # row of 7 spans ~10 of the 12 in, and plate edges beyond that only look like '1' or 'I'.
    crop_margin: float = 0.3
    max_angle_deg: float = 25.0


@dataclass(frozen=True)
class LineFit:
    """A glyph row in frame coordinates: unit direction, centre, extent and glyph height."""

    angle: float
    center: Point
    length: float
    glyph_h: float
    residual: float  # rms distance of glyph centres from the fitted line / glyph_h


def fit_line(boxes: np.ndarray) -> LineFit | None:
    """Least-squares centre line; None when the row is steeper than any plate plausibly is."""
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    gh = float(np.median(boxes[:, 3]))
    dx = cx - cx.mean()
    denom = float((dx * dx).sum())
    slope = float((dx * (cy - cy.mean())).sum() / denom) if denom > 0 else 0.0
    angle = math.atan(slope)
    resid = cy - cy.mean() - slope * dx
    u = np.array([math.cos(angle), math.sin(angle)])
    xs = np.concatenate([boxes[:, 0], boxes[:, 0] + boxes[:, 2]])
    ys = np.concatenate([cy, cy])
    t = (xs - cx.mean()) * u[0] + (ys - cy.mean()) * u[1]
    mid = (t.max() + t.min()) / 2
    center = (float(cx.mean() + mid * u[0]), float(cy.mean() + mid * u[1]))
    rms = float(np.sqrt((resid**2).mean())) / max(gh, 1.0)
    return LineFit(angle, center, float(t.max() - t.min()), gh, rms)


def plate_corners(
    fit: LineFit, geo: PlateGeometry, margin: float | None = None
) -> tuple[Point, Point, Point, Point]:
    """Top-left, top-right, bottom-right, bottom-left of the inferred plate outline (or of the
    reader's crop, with a smaller end `margin`)."""
    h = geo.height_per_glyph * fit.glyph_h
    end = geo.end_margin if margin is None else margin
    w = max(fit.length + 2 * end * fit.glyph_h, geo.min_aspect * h)
    c, s = math.cos(fit.angle), math.sin(fit.angle)
    ux, uy, vx, vy = c * w / 2, s * w / 2, -s * h / 2, c * h / 2
    x0, y0 = fit.center
    return (
        (x0 - ux - vx, y0 - uy - vy),
        (x0 + ux - vx, y0 + uy - vy),
        (x0 + ux + vx, y0 + uy + vy),
        (x0 - ux + vx, y0 - uy + vy),
    )


def bounding_box(corners: tuple[Point, ...], width: int, height: int) -> Box:
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    x0, y0 = max(0, int(math.floor(min(xs)))), max(0, int(math.floor(min(ys))))
    x1, y1 = min(width, int(math.ceil(max(xs)))), min(height, int(math.ceil(max(ys))))
    return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def rectify(gray: np.ndarray, corners: tuple[Point, Point, Point, Point]) -> tuple[np.ndarray, np.ndarray]:
    """Warp the plate to CROP_HEIGHT rows keeping its aspect; returns crop and the 3x3 warp."""
    (x0, y0), (x1, y1), _, (x3, y3) = corners
    w = math.hypot(x1 - x0, y1 - y0)
    h = math.hypot(x3 - x0, y3 - y0)
    out_w = max(8, int(round(CROP_HEIGHT * w / max(h, 1e-3))))
    src = np.array(corners, dtype=np.float32)
    dst = np.array(
        [[0, 0], [out_w - 1, 0], [out_w - 1, CROP_HEIGHT - 1], [0, CROP_HEIGHT - 1]], dtype=np.float32
    )
    m = cv2.getPerspectiveTransform(src, dst)
    crop = cv2.warpPerspective(
        gray, m, (out_w, CROP_HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, m


def crop_char_boxes(boxes: np.ndarray, m: np.ndarray, dark: bool, crop_w: int) -> tuple[CharBox, ...]:
    """Glyph boxes mapped into the crop: centres through the warp, sizes by its scale."""
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    pts = cv2.perspectiveTransform(np.stack([cx, cy], axis=1).reshape(-1, 1, 2).astype(np.float32), m)
    scale = math.sqrt(abs(float(np.linalg.det(m[:2, :2]))))
    out = []
    for (px, py), (_, _, bw, bh) in zip(pts.reshape(-1, 2), boxes, strict=True):
        w, h = bw * scale, bh * scale
        x0 = int(max(0, round(px - w / 2)))
        y0 = int(max(0, round(py - h / 2)))
        x1 = int(min(crop_w, round(px + w / 2)))
        y1 = int(min(CROP_HEIGHT, round(py + h / 2)))
        out.append(CharBox(Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0)), row=0, dark_on_light=dark))
    return tuple(out)


def line_score(boxes: np.ndarray, fit: LineFit) -> float:
    """How much a row looks like plate characters: count, equal heights, straight, even pitch."""
    n = len(boxes)
    f_n = {3: 0.45, 4: 0.75, 5: 0.95, 6: 1.0, 7: 1.0, 8: 1.0, 9: 0.85, 10: 0.6}.get(n, 0.35)
    h = boxes[:, 3]
    h_cv = float(h.std() / max(h.mean(), 1.0))
    cx = boxes[:, 0] + boxes[:, 2] / 2
    pitch = np.diff(np.sort(cx)) / fit.glyph_h
    med = float(np.median(pitch))
    even = float(np.mean((pitch > 0.5 * med) & (pitch < 1.7 * med)))
    pitch_ok = 1.0 if 0.35 <= med <= 1.1 else 0.5
    # Rows of bars (grilles, railings, fences) are not text: most plate glyphs are wider than '1'.
    aspect = float(np.median(boxes[:, 2] / boxes[:, 3]))
    wide = min(1.0, aspect / 0.35)
    return f_n * math.exp(-h_cv / 0.12) * math.exp(-fit.residual / 0.12) * even * pitch_ok * wide


@dataclass(frozen=True)
class InkStats:
    score: float  # glyphs hold the row's ink and stand out from it, 0..1
    background: float  # grey level of the row's non-ink pixels
    contrast: float  # |ink - background| grey levels


def ink_score(gray: np.ndarray, boxes: np.ndarray, dark: bool) -> InkStats:
    """Whether the glyphs are the only ink on their row, as on a plate, not in clutter or noise.

    Otsu over the glyph boxes and the gaps between neighbours separates ink from background; on
    a plate almost all ink falls inside the glyph boxes and the gaps are clean background. The
    row mask follows each neighbour pair, so a tilted row does not pull in the car around it.
    """
    order = np.argsort(boxes[:, 0])
    b = np.round(boxes[order]).astype(int)
    x0, y0 = max(0, int(b[:, 0].min())), max(0, int(b[:, 1].min()))
    x1, y1 = int((b[:, 0] + b[:, 2]).max()), int((b[:, 1] + b[:, 3]).max())
    band = gray[y0:y1, x0:x1]
    if band.size < 16:
        return InkStats(0.0, 0.0, 0.0)
    row = np.zeros(band.shape, dtype=bool)
    inside = np.zeros(band.shape, dtype=bool)
    for (ax, ay, _aw, ah), (bx, by, bw, bh) in zip(b[:-1], b[1:], strict=True):
        top, bot = min(ay, by) - y0, max(ay + ah, by + bh) - y0
        row[max(0, top) : bot, max(0, ax - x0) : bx + bw - x0] = True
    for bx, by, bw, bh in b:
        inside[max(0, by - y0) : by + bh - y0, max(0, bx - x0) : bx + bw - x0] = True
    px = band[row].reshape(-1, 1)
    if px.size < 16:
        return InkStats(0.0, 0.0, 0.0)
    flag = (cv2.THRESH_BINARY_INV if dark else cv2.THRESH_BINARY) + cv2.THRESH_OTSU
    _, ink_px = cv2.threshold(px, 0, 1, flag)
    ink = np.zeros(band.shape, dtype=bool)
    ink[row] = ink_px.reshape(-1).astype(bool)
    gaps = row & ~inside
    fill_in = float(ink[inside & row].mean()) if (inside & row).any() else 0.0
    fill_out = float(ink[gaps].mean()) if gaps.any() else 0.0
    fg, bg = band[ink], band[row & ~ink]
    if not (fg.size and bg.size):
        return InkStats(0.0, 0.0, 0.0)
    contrast = abs(float(fg.mean()) - float(bg.mean()))
    separation = max(0.0, fill_in - 2.0 * fill_out) / max(fill_in, 1e-6)
    return InkStats(separation * min(1.0, contrast / 40.0), float(bg.mean()), contrast)
