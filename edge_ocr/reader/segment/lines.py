"""Character lines in a binarized plate crop: thresholds, connected components, line fitting.

The first half of segmentation (see segment.py): each binarization's components are grouped into
the best line of similar-height, vertically aligned blobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

HEIGHT_RATIO = 1.3


@dataclass(frozen=True)
class SegmentParams:
    work_height: int = 72  # crops are resized to this height: thresholds below are in these pixels
    min_height: float = 0.18  # a character is at least this fraction of the crop height
    max_height: float = 0.98
    line_tol: float = 0.22  # centre offset from the line, as a fraction of the line's char height
    height_ratio: float = HEIGHT_RATIO  # members of a line are within this factor of its median height
    second_row_ratio: float = 0.7  # a second row has characters at least this tall vs the first
    max_chars: int = 10
    edge_strip: float = 0.1  # fraction of rows cut at top and bottom when nothing was found


@dataclass(frozen=True)
class Blob:
    """A connected component (or a merge / split of some) in working coordinates."""

    x: int
    y: int
    w: int
    h: int
    area: int
    through: bool = False  # part of a component that runs on both above and below the line's band

    @property
    def cx(self) -> float:
        return self.x + self.w / 2.0

    @property
    def cy(self) -> float:
        return self.y + self.h / 2.0

    def union(self, o: Blob) -> Blob:
        x1, y1 = min(self.x, o.x), min(self.y, o.y)
        x2, y2 = max(self.x + self.w, o.x + o.w), max(self.y + self.h, o.y + o.h)
        return Blob(x1, y1, x2 - x1, y2 - y1, self.area + o.area)


def _odd(v: float) -> int:
    n = max(3, int(v))
    return n if n % 2 else n + 1


def binarizations(gray: np.ndarray) -> Iterator[tuple[str, bool, np.ndarray]]:
    """(name, dark_on_light, ink mask) for each way of thresholding; ink pixels are 255."""
    lo, hi = np.percentile(gray, [2, 98])
    contrast = max(float(hi - lo), 1.0)
    h = gray.shape[0]
    _, otsu = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    for dark in (True, False):
        yield f"otsu-{'d' if dark else 'l'}", dark, (255 - otsu) if dark else otsu
        for block, c in ((h // 2, 0.04), (h // 4, 0.06), (h, 0.10)):
            # Local mean threshold: ink is darker (or brighter) than its neighbourhood by c*contrast.
            mode = cv2.THRESH_BINARY_INV if dark else cv2.THRESH_BINARY
            off = c * contrast if dark else -c * contrast
            m = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, _odd(block), off)
            yield f"mean{block}-{'d' if dark else 'l'}", dark, m


CC = tuple[int, np.ndarray, np.ndarray]  # connected components: count, label image, stats


def label(mask: np.ndarray) -> CC:
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return int(n), lab, stats


def components(mask: np.ndarray, p: SegmentParams, cc: CC | None = None) -> list[Blob]:
    """Components that could be (part of) a character: plausible height, not a frame-wide stripe."""
    _, _, stats = cc or label(mask)
    H, W = mask.shape
    st = stats[1:]
    x, y, w, h, a = (st[:, i] for i in range(5))
    ok = (h >= 0.08 * H) & (h <= p.max_height * H) & (w <= 0.5 * W) & (a >= 8)
    ok &= a >= 0.08 * w * h  # a thin outline (frame, ring) rather than strokes
    ok &= (x > 0) & (x + w < W)  # plate edges and frames touch the sides; characters do not
    return [Blob(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in st[ok]]


def median_small(v: np.ndarray) -> float:
    """Median of a short vector; np.median's overhead dominates at these sizes."""
    s = np.sort(v)
    n = len(s)
    return float(s[n // 2]) if n % 2 else float(0.5 * (s[n // 2 - 1] + s[n // 2]))


def _fit_line(arr: np.ndarray) -> tuple[float, float, float]:
    """Robust centre line cy = a*cx + b and the median height of member rows [x, y, w, h, area]."""
    cx = arr[:, 0] + arr[:, 2] / 2.0
    cy = arr[:, 1] + arr[:, 3] / 2.0
    hm = median_small(arr[:, 3])
    a = 0.0
    if len(arr) >= 3 and np.ptp(cx) > hm:
        dx = cx - cx.mean()
        a = float(np.clip((dx * (cy - cy.mean())).sum() / (dx * dx).sum(), -0.25, 0.25))  # < ~14 deg
    return a, median_small(cy - a * cx), hm


def _collect(arr: np.ndarray, a: float, b: float, hm: float, p: SegmentParams) -> np.ndarray:
    """Boolean mask of rows near the line cy = a*cx + b with a height close to hm."""
    cx = arr[:, 0] + arr[:, 2] / 2.0
    cy = arr[:, 1] + arr[:, 3] / 2.0
    h = arr[:, 3]
    return (
        (np.abs(cy - (a * cx + b)) <= p.line_tol * hm)
        & (h >= hm / p.height_ratio)
        & (h <= hm * p.height_ratio)
        & (arr[:, 2] <= 2.5 * h)
    )


@dataclass(frozen=True)
class Line:
    """A line of characters: members, centre line cy = a*cx + b, median char height, score."""

    members: tuple[Blob, ...]
    a: float
    b: float
    hm: float
    score: float


def find_line(blobs: list[Blob], p: SegmentParams, min_h: float) -> Line | None:
    """The best line of similar-height aligned blobs, scored by the sum of squared heights.

    Squared height prefers a few big registration characters over many small slogan letters. Seeds
    are tried tallest first and a blob already in a tried line seeds nothing, which keeps this fast.
    """
    if not blobs:
        return None
    arr = np.array([(b.x, b.y, b.w, b.h, b.area) for b in blobs], dtype=np.float64)
    tried = np.zeros(len(blobs), bool)
    best: Line | None = None
    for i in np.argsort(-arr[:, 3]):
        x, y, w, h, _ = arr[i]
        if tried[i] or h < min_h or not 0.1 * h <= w <= 1.2 * h:
            continue
        sel = _collect(arr, 0.0, y + h / 2.0, h, p)
        for _ in range(2):
            if not sel.any():
                break
            sel = _collect(arr, *_fit_line(arr[sel]), p)
        tried |= sel
        tried[i] = True
        members = _dedupe([blobs[j] for j in np.flatnonzero(sel)])
        if len(members) < 2:
            continue
        hs = sorted((m.h for m in members), reverse=True)[: p.max_chars]
        score = float(sum(v * v for v in hs))
        if best is None or score > best.score:
            a, b, hm = _fit_line(arr[sel])
            best = Line(tuple(sorted(members, key=lambda m: m.x)), a, b, hm, score)
    return best


def _dedupe(members: list[Blob]) -> list[Blob]:
    """Blobs nested inside another member (islands in holes, inner noise) are not characters."""
    keep = []
    for m in members:
        inside = any(
            o is not m and o.x <= m.x and o.y <= m.y and o.x + o.w >= m.x + m.w and o.y + o.h >= m.y + m.h
            for o in members
        )
        if not inside:
            keep.append(m)
    return keep
