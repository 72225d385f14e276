"""Text layout by contours: character boxes, joined pieces, lines, words, and each glyph's height
against its line (which tells x from X where the glyph's shape cannot).

Threshold + edges, a small vertical dilation, external contours and their boxes; small pieces (the
dot of i/j, broken pen strokes) are joined to the glyph above or below them; a left-to-right sweep
builds lines (tolerates slight rotation); gaps wider than the usual letter gap are spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge_ocr.types import Box


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


def union(boxes: Sequence[Box]) -> Box:
    x1, y1 = min(b.x for b in boxes), min(b.y for b in boxes)
    x2, y2 = max(b.x2 for b in boxes), max(b.y2 for b in boxes)
    return Box(x1, y1, x2 - x1, y2 - y1)


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

    The baseline is a line through the boxes' bottoms (slight rotation allowed), fitted twice so the
    descenders (g, j, p, q, y) found by the first fit do not drag it down; the cap height is the
    75th percentile of the heights of the glyphs standing on it.
    """
    xs = np.array([b.center[0] for b in line], np.float64)
    bottoms = np.array([b.y2 for b in line], np.float64)
    heights = np.array([b.h for b in line], np.float64)
    on_base = np.ones(len(line), bool)
    fit = np.array([0.0, float(np.median(bottoms))])
    for _ in range(2):
        if on_base.sum() >= 3 and np.ptp(xs[on_base]) > 0:
            fit = np.polyfit(xs[on_base], bottoms[on_base], 1)
        else:
            fit = np.array([0.0, float(np.median(bottoms[on_base]))])
        resid = bottoms - np.polyval(fit, xs)
        keep = resid < 0.12 * float(np.median(heights))
        on_base = keep if keep.any() else on_base
    cap = max(float(np.percentile(heights[on_base], 75)), 1.0)
    cap_top = np.polyval(fit, xs) - cap
    return (np.array([b.y for b in line], np.float64) - cap_top) / cap
