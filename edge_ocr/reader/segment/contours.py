"""Find the characters of a plate crop: several binarizations, connected components, the dominant line.

Plate crops carry much more than the registration: state names, slogans, stickers, bolts, frames and
shadows. No single threshold works for every plate, so each crop is binarized several ways (global
Otsu and local mean thresholds, both polarities) and each binarization proposes a *hypothesis*: the
best line of similar-height, vertically aligned components. Hypotheses are ranked by geometry here;
the pipeline may re-rank the best few by classifier confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from edge_ocr.preprocess import to_gray
from edge_ocr.reader.segment.lines import (
    HEIGHT_RATIO,
    Blob,
    Line,
    SegmentParams,
    binarizations,
    components,
    find_line,
    label,
)
from edge_ocr.reader.segment.pieces import line_quality, merge_pieces, refine, split_wide
from edge_ocr.types import Box, CharBox

__all__ = ["HEIGHT_RATIO", "Blob", "ContourSegmenter", "Hypothesis", "Line", "SegmentParams", "merge_pieces"]


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
