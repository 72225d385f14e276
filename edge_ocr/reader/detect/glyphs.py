"""Character-line finding for the plate detector: candidate glyphs, then lines of them.

A plate is, before anything else, a short horizontal row of 4-9 glyphs of equal height on a
uniform background. Finding that row is cheaper and more general than learning plate
appearance: it works for any plate colour scheme and needs no detector training data.

Glyph candidates come from local-mean binarization in both polarities (dark ink on light
plates and light ink on dark plates); grouping is vectorized over candidate pairs so that a
busy 1280x720 frame with thousands of blobs still costs a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class LineParams:
    """Geometry of a plausible glyph and of two neighbouring glyphs on one line.

    Heights are in pixels of the pyramid level being searched; the pyramid makes the fixed
    range cover plates from ~50 px to several hundred px wide in the frame.
    """

    min_h: int = 9
    max_h: int = 30
    min_aspect: float = 0.08  # w / h; a '1' or 'I' is narrow
    max_aspect: float = 1.15
    min_fill: float = 0.12  # ink pixels / box area
    max_fill: float = 0.92
    block_factor: float = 1.7  # local-mean window relative to min_h: must not reach past a small plate
    offsets: tuple[float, ...] = (0.6,)  # pixel vs local mean, in local standard deviations
    min_offset: float = 3.0  # grey levels, so flat areas do not turn into noise blobs
    max_gap: float = 1.25  # horizontal gap between neighbours, in glyph heights
    max_overlap: float = 0.25  # neighbours may overlap by this much (italics, touching)
    max_dy: float = 0.3  # centre-line difference, in glyph heights
    max_h_ratio: float = 1.3  # height ratio of neighbours
    min_len: int = 3
    max_len: int = 12
    merge_gap: float = 2.5  # fragments of one row (split by a logo or a lost glyph), in glyph heights


@dataclass(frozen=True)
class CharLine:
    """A row of glyph boxes (x, y, w, h) at one pyramid level; `dark` is the ink polarity."""

    boxes: np.ndarray
    dark: bool


def glyph_candidates(gray: np.ndarray, p: LineParams) -> list[tuple[np.ndarray, bool]]:
    """Boxes (N, 4) of blobs shaped like glyphs, per polarity and threshold.

    The threshold is the local mean shifted by a fraction of the local standard deviation
    (Niblack), floored at a few grey levels: faded, night-time and backlit plates have little
    contrast in absolute terms but plenty relative to their surroundings.
    """
    block = int(p.block_factor * p.min_h) | 1
    # In place where the same values allow it: each float plane is 0.9 MiB at 640x360, and the
    # daemon's peak memory is set while this runs (four planes alive instead of seven; same result).
    g = gray.astype(np.float32)
    mean = cv2.blur(g, (block, block))
    var = cv2.sqrBoxFilter(g, cv2.CV_32F, (block, block))
    np.subtract(var, mean * mean, out=var)
    std = cv2.sqrt(np.maximum(var, 0.0, out=var), dst=var)
    diff = np.subtract(g, mean, out=g)
    del mean, var
    off = np.empty_like(std)
    out = []
    for k in p.offsets:
        np.maximum(np.multiply(std, k, out=off), np.float32(p.min_offset), out=off)
        out.append((_shape_filter(cv2.compare(diff, -off, cv2.CMP_LT), p), True))
        out.append((_shape_filter(cv2.compare(diff, off, cv2.CMP_GT), p), False))
    return out


def _shape_filter(mask: np.ndarray, p: LineParams) -> np.ndarray:
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    s = stats[1:]
    w, h, area = s[:, 2], s[:, 3], s[:, 4]
    fill = area / np.maximum(w * h, 1)
    ok = (h >= p.min_h) & (h <= p.max_h) & (w >= 2) & (w >= p.min_aspect * h) & (w <= p.max_aspect * h)
    ok &= (fill >= p.min_fill) & (fill <= p.max_fill)
    return s[ok, :4].astype(np.float32)


def group_lines(boxes: np.ndarray, dark: bool, p: LineParams) -> list[CharLine]:
    """Chain each glyph to its nearest compatible right neighbour; chains are lines."""
    n = len(boxes)
    if n < p.min_len:
        return []
    order = np.argsort(boxes[:, 0], kind="stable")
    b = boxes[order]
    i, j = _candidate_pairs(b, p)
    if len(i) == 0:
        return []
    nxt = _best_right_neighbour(b, i, j, n)
    chains = _chains(nxt)
    lines = [CharLine(boxes=b[c], dark=dark) for c in chains if p.min_len <= len(c) <= p.max_len]
    return lines + _merged_fragments(b, [c for c in chains if len(c) >= 2], dark, p)


def _merged_fragments(b: np.ndarray, chains: list[list[int]], dark: bool, p: LineParams) -> list[CharLine]:
    """Extra rows made of two collinear chains: plate rows broken by a state emblem, a wide
    separator or a glyph the threshold lost. The fragments stay proposals on their own too."""
    if len(chains) < 2:
        return []
    first = np.array([c[0] for c in chains])
    last = np.array([c[-1] for c in chains])
    length = np.array([len(c) for c in chains])
    hc = np.array([float(np.median(b[c, 3])) for c in chains])
    right = b[last, 0] + b[last, 2]
    cy_end, cy_start = b[last, 1] + b[last, 3] / 2, b[first, 1] + b[first, 3] / 2
    order = np.argsort(b[first, 0])
    left = b[first[order], 0]
    lo = np.searchsorted(left, right, side="left")
    hi = np.searchsorted(left, right + p.merge_gap * hc * p.max_h_ratio, side="right")
    out = []
    for ia in np.flatnonzero(hi > lo):
        for ib in order[lo[ia] : hi[ia]]:
            hm = max(hc[ia], hc[ib])
            ok = hm <= p.max_h_ratio * min(hc[ia], hc[ib]) and abs(cy_end[ia] - cy_start[ib]) <= p.max_dy * hm
            ok = ok and left_gap_ok(b[first[ib], 0] - right[ia], hm, p)
            if ok and 4 <= length[ia] + length[ib] <= p.max_len:
                out.append(CharLine(boxes=b[chains[ia] + chains[ib]], dark=dark))
    return out


def left_gap_ok(gap: float, h: float, p: LineParams) -> bool:
    return 0 <= gap <= p.merge_gap * h


def _candidate_pairs(b: np.ndarray, p: LineParams) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with j starting within reach to the right of i, then geometric checks."""
    x, y, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    lo = np.searchsorted(x, x + 1, side="left")
    hi = np.searchsorted(x, x + w + p.max_gap * h, side="right")
    counts = np.maximum(hi - lo, 0)
    i = np.repeat(np.arange(len(b)), counts)
    if len(i) == 0:
        return i, i
    starts = np.repeat(np.cumsum(counts) - counts - lo, counts)
    j = np.arange(len(i)) - starts
    hm = np.maximum(h[i], h[j])
    ratio = hm / np.minimum(h[i], h[j])
    gap = x[j] - (x[i] + w[i])
    dy = np.abs((y[i] + h[i] / 2) - (y[j] + h[j] / 2))
    ok = (ratio <= p.max_h_ratio) & (dy <= p.max_dy * hm) & (gap >= -p.max_overlap * hm)
    ok &= gap <= p.max_gap * hm
    return i[ok], j[ok]


def _best_right_neighbour(b: np.ndarray, i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """nxt[i] = closest compatible glyph to the right (or -1); each glyph is taken once."""
    h = b[:, 3]
    gap = b[j, 0] - (b[i, 0] + b[i, 2])
    dy = np.abs((b[i, 1] + h[i] / 2) - (b[j, 1] + h[j] / 2))
    cost = np.abs(gap) / h[i] + 2.0 * dy / h[i] + np.abs(np.log(h[j] / h[i]))
    order = np.lexsort((cost, i))
    i, j, cost = i[order], j[order], cost[order]
    first = np.ones(len(i), dtype=bool)
    first[1:] = i[1:] != i[:-1]
    i, j, cost = i[first], j[first], cost[first]
    # A glyph with several left suitors keeps the cheapest one, so chains never merge.
    order = np.lexsort((cost, j))
    i, j = i[order], j[order]
    first = np.ones(len(j), dtype=bool)
    first[1:] = j[1:] != j[:-1]
    nxt = np.full(n, -1, dtype=np.int64)
    nxt[i[first]] = j[first]
    return nxt


def _chains(nxt: np.ndarray) -> list[list[int]]:
    has_prev = np.zeros(len(nxt), dtype=bool)
    has_prev[nxt[nxt >= 0]] = True
    chains = []
    for start in np.flatnonzero(~has_prev & (nxt >= 0)):
        chain = [int(start)]
        k = int(nxt[start])
        while k >= 0:
            chain.append(k)
            k = int(nxt[k])
        chains.append(chain)
    return chains
