"""Find the characters of a plate crop: several binarizations, connected components, the dominant line.

Plate crops carry much more than the registration: state names, slogans, stickers, bolts, frames and
shadows. No single threshold works for every plate, so each crop is binarized several ways (global
Otsu and local mean thresholds, both polarities) and each binarization proposes a *hypothesis*: the
best line of similar-height, vertically aligned components. Hypotheses are ranked by geometry here;
the pipeline may re-rank the best few by classifier confidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from edge_ocr.preprocess import to_gray
from edge_ocr.types import Box, CharBox

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


@dataclass(frozen=True)
class Hypothesis:
    """One proposed segmentation: rows of char boxes in crop coordinates, and its geometric score."""

    boxes: tuple[CharBox, ...]
    score: float
    source: str
    # Per box: the share of all binarizations' hypotheses that also found a box there. A frame
    # fragment that one threshold happens to cut out gets little support; real characters get a lot.
    support: tuple[float, ...] = ()

    @property
    def key(self) -> tuple[tuple[int, int, int, int], ...]:
        """Coarse identity, to drop near-duplicate hypotheses from different binarizations."""
        return tuple((b.box.x // 4, b.box.w // 4, b.box.y // 6, b.row) for b in self.boxes)


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


def _median(v: np.ndarray) -> float:
    """Median of a short vector; np.median's overhead dominates at these sizes."""
    s = np.sort(v)
    n = len(s)
    return float(s[n // 2]) if n % 2 else float(0.5 * (s[n // 2 - 1] + s[n // 2]))


def _fit_line(arr: np.ndarray) -> tuple[float, float, float]:
    """Robust centre line cy = a*cx + b and the median height of member rows [x, y, w, h, area]."""
    cx = arr[:, 0] + arr[:, 2] / 2.0
    cy = arr[:, 1] + arr[:, 3] / 2.0
    hm = _median(arr[:, 3])
    a = 0.0
    if len(arr) >= 3 and np.ptp(cx) > hm:
        dx = cx - cx.mean()
        a = float(np.clip((dx * (cy - cy.mean())).sum() / (dx * dx).sum(), -0.25, 0.25))  # < ~14 deg
    return a, _median(cy - a * cx), hm


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


def band_blobs(mask: np.ndarray, line: Line, cc: CC | None = None) -> list[Blob]:
    """Re-run components on the mask cut to the line's band.

    Cutting away everything above and below the line frees characters glued to a frame, a bolt or an
    underline, which the first pass had to reject as too tall. A piece whose whole component ran on
    both above and below the band is marked `through`: a frame edge, or the background between
    characters when the polarity is wrong (a character glued to a frame touches it on one side).
    """
    H, W = mask.shape
    xs = np.arange(W)
    centre = line.a * xs + line.b
    half = 0.5 * line.hm + max(1.0, 0.06 * line.hm)
    keep = np.abs(np.arange(H)[:, None] - centre[None, :]) <= half
    cut = np.where(keep, mask, 0).astype(np.uint8)
    n, cut_lab, stats, _ = cv2.connectedComponentsWithStats(cut, connectivity=8)
    n0, orig_lab, ostats = cc or label(mask)
    ink = cut > 0
    pairs = np.unique(cut_lab[ink].astype(np.int64) * n0 + orig_lab[ink])
    parent = dict(zip((pairs // n0).tolist(), (pairs % n0).tolist(), strict=True))
    out = []
    for i in range(1, n):
        x, y, w, h, a = (int(v) for v in stats[i])
        if a < 4 or x == 0 or x + w >= W:  # what touches the crop's sides is background or frame
            continue
        oy, oh = int(ostats[parent[i], 1]), int(ostats[parent[i], 3])
        c = line.a * (x + w / 2.0) + line.b
        reach = half + 1
        out.append(Blob(x, y, w, h, a, oy < c - reach and oy + oh > c + reach))
    return out


def merge_pieces(blobs: list[Blob], hm: float) -> list[Blob]:
    """Merge pieces of one broken character: blobs that overlap mostly in x (stacked fragments)."""
    out: list[Blob] = []
    for b in sorted(blobs, key=lambda m: m.x):
        if out:
            last = out[-1]
            overlap = min(last.x + last.w, b.x + b.w) - max(last.x, b.x)
            u = last.union(b)
            gap = max(last.y, b.y) - min(last.y + last.h, b.y + b.h)
            # Two small letters stacked in a corner (state codes, "RT", "7B") stand clearly apart;
            # the pieces of a broken stroke nearly touch.
            stacked = gap >= 0.1 * hm and min(last.h, b.h) >= 0.3 * hm
            if overlap >= 0.5 * min(last.w, b.w) and u.h <= 1.2 * hm and not stacked:
                out[-1] = u
                continue
        out.append(b)
    return out


def split_wide(mask: np.ndarray, blobs: list[Blob], hm: float) -> list[Blob]:
    """Split blobs too wide for the line into k characters at the weakest columns near even cuts."""
    normal = [b.w for b in blobs if 0.35 * hm <= b.w <= 0.9 * hm]
    wref = float(np.median(normal)) if normal else 0.6 * hm
    out = []
    for b in blobs:
        k = int(round(b.w / wref))
        if b.w <= max(1.6 * wref, 0.95 * hm) or k < 2:
            out.append(b)
            continue
        k = min(k, 4)
        sub = mask[b.y : b.y + b.h, b.x : b.x + b.w] > 0
        ink = sub.sum(axis=0)
        cuts = [0]
        for i in range(1, k):
            c, r = i * b.w / k, max(1, int(0.25 * b.w / k))
            lo, hi = int(c - r), int(c + r) + 1
            cuts.append(lo + int(np.argmin(ink[lo:hi])))
        cuts.append(b.w)
        for c0, c1 in zip(cuts[:-1], cuts[1:], strict=True):
            ys = np.flatnonzero(sub[:, c0:c1].any(axis=1))
            if c1 - c0 >= 2 and len(ys):
                area = int(sub[:, c0:c1].sum())
                out.append(Blob(b.x + c0, b.y + int(ys[0]), c1 - c0, int(ys[-1] - ys[0] + 1), area))
    return out


def _fill(b: Blob) -> float:
    return b.area / max(1, b.w * b.h)


def _is_edge(b: Blob, nb: Blob | None, line: Line) -> bool:
    """A narrow bar at the end of a line that is a plate edge, frame or shadow, not a character:
    it runs on above and below the line, or it is solid and stands apart from the others."""
    if b.w < 0.45 * line.hm and _fill(b) < 0.25:
        return True  # a thin outline: the corner of a frame
    if b.w >= 0.3 * line.hm:
        return _fill(b) > 0.85  # a wide solid block (colour band, sticker) is no character
    if b.through:
        return True
    gap = abs(nb.cx - b.cx) - (nb.w + b.w) / 2.0 if nb is not None else 0.0
    return _fill(b) > 0.8 and gap > 0.8 * line.hm


def _contrast(gray: np.ndarray, mask: np.ndarray, b: Blob) -> float:
    """Ink-to-paper contrast of a blob: |median paper - median ink| inside its box."""
    g = gray[b.y : b.y + b.h, b.x : b.x + b.w]
    m = mask[b.y : b.y + b.h, b.x : b.x + b.w] > 0
    if m.all() or not m.any():
        return 0.0
    paper, ink = g[~m], g[m]
    return abs(
        float(np.partition(paper, paper.size // 2)[paper.size // 2])
        - float(np.partition(ink, ink.size // 2)[ink.size // 2])
    )


def same_ink(gray: np.ndarray, mask: np.ndarray, chars: list[Blob], ratio: float = 0.55) -> list[Blob]:
    """Registration characters are printed in one ink; a faded picture (a state emblem, a
    silhouette, a watermark) between them is cut out by local thresholds but has far less contrast."""
    if len(chars) < 3:
        return chars
    c = np.array([_contrast(gray, mask, b) for b in chars])
    ref = float(np.median(c))
    return [b for b, v in zip(chars, c, strict=True) if v >= ratio * ref]


def refine(mask: np.ndarray, line: Line, gray: np.ndarray | None = None, cc: CC | None = None) -> list[Blob]:
    """From a line found on the whole mask to its final characters: band cut, merge, drop, split."""
    pieces = [
        b for b in band_blobs(mask, line, cc) if b.h >= 0.3 * line.hm and b.w <= 4 * line.hm and not b.through
    ]
    merged = merge_pieces(pieces, line.hm)
    chars = [b for b in merged if b.h >= 0.62 * line.hm and b.w >= 0.06 * line.hm]
    if gray is not None:
        chars = same_ink(gray, mask, chars)
    while chars and _is_edge(chars[0], chars[1] if len(chars) > 1 else None, line):
        chars = chars[1:]
    while chars and _is_edge(chars[-1], chars[-2] if len(chars) > 1 else None, line):
        chars = chars[:-1]
    return chars


def line_quality(chars: list[Blob]) -> float:
    """1 for a clean line of stroke characters, towards 0 for uneven heights or solid bars
    (the gaps between characters of the wrong polarity look like a row of solid bars)."""
    if not chars:
        return 0.0
    hs = np.array([c.h for c in chars], float)
    spread = float(hs.std() / hs.mean())
    fill = _median(np.array([_fill(c) for c in chars]))
    return max(0.0, 1.0 - 2.0 * spread) * float(np.clip((0.9 - fill) / 0.25, 0.0, 1.0))


def _support(h: Hypothesis, every: list[Hypothesis]) -> tuple[float, ...]:
    """For each box of h, the share of hypotheses with an overlapping box (IoU >= 0.5)."""
    if not h.boxes:
        return ()
    others = [(i, b.box) for i, e in enumerate(every) for b in e.boxes]
    if not others:
        return (0.0,) * len(h.boxes)
    owner = np.array([i for i, _ in others])
    o = np.array([(b.x, b.y, b.x2, b.y2) for _, b in others], float)
    m = np.array([(b.box.x, b.box.y, b.box.x2, b.box.y2) for b in h.boxes], float)
    iw = np.clip(np.minimum(m[:, None, 2], o[None, :, 2]) - np.maximum(m[:, None, 0], o[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(m[:, None, 3], o[None, :, 3]) - np.maximum(m[:, None, 1], o[None, :, 1]), 0, None)
    inter = iw * ih
    area_m = (m[:, 2] - m[:, 0]) * (m[:, 3] - m[:, 1])
    area_o = (o[:, 2] - o[:, 0]) * (o[:, 3] - o[:, 1])
    iou = inter / np.maximum(area_m[:, None] + area_o[None, :] - inter, 1e-9)
    n = max(1, len(every))
    return tuple(len(np.unique(owner[row >= 0.5])) / n for row in iou)


class ContourSegmenter:
    """Characters of a plate crop, as CharBoxes in crop coordinates ordered by row then x."""

    def __init__(self, params: SegmentParams | None = None) -> None:
        self.p = params or SegmentParams()

    def segment(self, crop: np.ndarray) -> list[CharBox]:
        hyps = self.hypotheses(crop, 1)
        return list(hyps[0].boxes) if hyps else []

    def hypotheses(self, crop: np.ndarray, k: int = 3) -> list[Hypothesis]:
        """Up to k distinct segmentations, best geometric score first."""
        gray = to_gray(crop)
        if gray.size == 0 or min(gray.shape) < 8:
            return []
        scale = self.p.work_height / gray.shape[0]
        work = cv2.resize(
            gray,
            (max(8, round(gray.shape[1] * scale)), self.p.work_height),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        )
        masks = list(binarizations(work))
        every = [h for name, dark, mask in masks for h in self._variants(work, mask, dark, name, 1 / scale)]
        if max((len(h.boxes) for h in every), default=0) < 3:
            # Tight crops: characters glued to a frame at the crop's top or bottom edge. Cut a strip
            # off both and look again (only then: it doubles the work).
            e = max(1, round(self.p.edge_strip * work.shape[0]))
            for name, dark, mask in masks:
                cut = mask.copy()
                cut[:e] = 0
                cut[-e:] = 0
                every += self._variants(work, cut, dark, name + "-strip", 1 / scale)
        found: dict[tuple[tuple[int, int, int, int], ...], Hypothesis] = {}
        for h in every:
            if h.key not in found or found[h.key].score < h.score:
                found[h.key] = h
        best = sorted(found.values(), key=lambda h: -h.score)[:k]
        return [replace(h, support=_support(h, every)) for h in best]

    def _rows(self, mask: np.ndarray, gray: np.ndarray) -> list[tuple[Line, list[Blob]]]:
        H = mask.shape[0]
        cc = label(mask)
        blobs = components(mask, self.p, cc)
        first = find_line(blobs, self.p, self.p.min_height * H)
        if first is None:
            return []
        rows = [first]
        top, bot = min(m.y for m in first.members), max(m.y + m.h for m in first.members)
        rest = [b for b in blobs if b.y + b.h <= top + 0.1 * first.hm or b.y >= bot - 0.1 * first.hm]
        second = find_line(rest, self.p, self.p.second_row_ratio * first.hm)
        if (
            second is not None
            and second.hm <= first.hm * 1.4
            and len(second.members) >= 2
            and abs(second.b - first.b) >= 0.8 * max(first.hm, second.hm)  # rows must not overlap
        ):
            rows.append(second)
        rows.sort(key=lambda r: r.b)
        return [(r, refine(mask, r, gray, cc)) for r in rows]

    def _variants(
        self, gray: np.ndarray, mask: np.ndarray, dark: bool, name: str, inv: float
    ) -> list[Hypothesis]:
        """The hypothesis with wide blobs split, and without when that differs: a wide W or M in a
        condensed font and two touching characters look alike; the classifier tells them apart."""
        rows = self._rows(mask, gray)
        split = [(line, split_wide(mask, chars, line.hm)) for line, chars in rows]
        out = [self._hypothesis(split, mask.shape[0], dark, name, inv)]
        if any(len(a) != len(b) for (_, a), (_, b) in zip(rows, split, strict=True)):
            out.append(self._hypothesis(rows, mask.shape[0], dark, name + "-whole", inv, 0.95))
        return [h for h in out if h is not None]

    @staticmethod
    def _hypothesis(
        rows: list[tuple[Line, list[Blob]]], H: int, dark: bool, name: str, inv: float, weight: float = 1.0
    ) -> Hypothesis | None:
        boxes: list[CharBox] = []
        score = 0.0
        for i, (_line, chars) in enumerate(rows):
            for b in sorted(chars, key=lambda m: m.x):
                box = Box(
                    round(b.x * inv), round(b.y * inv), max(1, round(b.w * inv)), max(1, round(b.h * inv))
                )
                boxes.append(CharBox(box, i, dark))
            hs = np.array([c.h for c in chars], float)
            score += float((hs**2).sum()) * line_quality(chars) / H**2
        if len(boxes) < 2:
            return None
        return Hypothesis(tuple(boxes), score * weight, name)
