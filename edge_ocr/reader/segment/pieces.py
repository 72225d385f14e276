"""From a character line to its characters: band cut, merging, splitting, frame and picture rejection.

The second half of segmentation (see segment.py and seglines.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_ocr.reader.segment.lines import CC, Blob, Line, label, median_small


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
    cut = _peel_sides(np.where(keep, mask, 0).astype(np.uint8), keep)
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


def _peel_sides(cut: np.ndarray, keep: np.ndarray, full: float = 0.85) -> np.ndarray:
    """Clear the plate frame's vertical bars at the crop's left and right edges inside the band.

    In tight crops the first and last characters are often glued to the frame; everything glued to
    the crop's sides is dropped, so the bars (columns inked over nearly the whole band, starting at
    the edge) are cut away first.
    """
    cover = (cut > 0).sum(axis=0) / np.maximum(keep.sum(axis=0), 1)
    W = cut.shape[1]
    left = 0
    while left < W // 8 and cover[left] >= full:
        left += 1
    right = W
    while right > W - W // 8 and cover[right - 1] >= full:
        right -= 1
    if left or right < W:
        cut = cut.copy()
        cut[:, : left + 1 if left else 0] = 0
        if right < W:
            cut[:, right - 1 :] = 0
    return cut


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
    fill = median_small(np.array([_fill(c) for c in chars]))
    return max(0.0, 1.0 - 2.0 * spread) * float(np.clip((0.9 - fill) / 0.25, 0.0, 1.0))
