"""Scoring for `edge-ocr bench`: box matching, plate and character accuracy, latency statistics.

Pure functions over small frozen records, so every figure the benchmark prints can be checked
against a hand count in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_ocr.types import Box, edit_distance

DETECT_IOU = 0.3  # a detection counts when it overlaps the labelled plate by at least this much


@dataclass(frozen=True)
class Pred:
    """One read: best text, confidence, its box in the frame (None for crops) and the N-best texts."""

    plate: str
    confidence: float = 0.0
    box: Box | None = None
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Truth:
    plate: str
    box: Box | None = None


@dataclass(frozen=True)
class Match:
    truth: int
    pred: int
    iou: float


@dataclass(frozen=True)
class PlateScore:
    """How one labelled plate fared."""

    truth: str
    read: str  # the text matched to it ("" when nothing was)
    detected: bool
    exact: bool
    topn: bool
    distance: int  # edit distance between read and truth (len(truth) when nothing was read)


@dataclass(frozen=True)
class LatencyStats:
    n: int
    mean: float
    median: float
    p90: float
    p99: float
    min: float
    max: float

    def to_json(self) -> dict[str, float]:
        return {k: (v if k == "n" else round(float(v), 4)) for k, v in self.__dict__.items()}


def char_accuracy(truths: Sequence[str], reads: Sequence[str]) -> float:
    """1 - total edit distance / total truth length, floored at 0; 1.0 for no truth at all."""
    total = sum(len(t) for t in truths)
    if total == 0:
        return 1.0
    dist = sum(edit_distance(r, t) for t, r in zip(truths, reads, strict=True))
    return max(0.0, 1.0 - dist / total)


def match_boxes(
    truths: Sequence[Box], preds: Sequence[Box | None], min_iou: float = DETECT_IOU
) -> list[Match]:
    """One-to-one matches, greedily by highest IoU first; pairs under `min_iou` never match."""
    pairs = []
    for ti, t in enumerate(truths):
        for pi, p in enumerate(preds):
            if p is not None:
                iou = t.iou(p)
                if iou >= min_iou and iou > 0:
                    pairs.append((iou, ti, pi))
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_t: set[int] = set()
    used_p: set[int] = set()
    out = []
    for iou, ti, pi in pairs:
        if ti not in used_t and pi not in used_p:
            used_t.add(ti)
            used_p.add(pi)
            out.append(Match(ti, pi, iou))
    return sorted(out, key=lambda m: m.truth)


def _score(truth: Truth, pred: Pred | None, detected: bool, top_n: int) -> PlateScore:
    read = pred.plate if pred else ""
    # The N-best list as `read` prints it: the read itself first, then the other candidates.
    cands = ([pred.plate] + [c for c in pred.candidates if c != pred.plate])[:top_n] if pred else []
    dist = edit_distance(read, truth.plate)
    return PlateScore(truth.plate, read, detected, read == truth.plate, truth.plate in cands, dist)


def score_frame(
    truths: Sequence[Truth], preds: Sequence[Pred], top_n: int = 5, min_iou: float = DETECT_IOU
) -> tuple[list[PlateScore], int]:
    """Score every labelled plate of one frame; returns (scores, false positives).

    Labelled boxes are matched to read boxes by IoU; without boxes (crops) the reads are taken in
    confidence order. Reads matched to no plate are false positives.
    """
    if truths and all(t.box is not None for t in truths):
        matches = match_boxes([t.box for t in truths if t.box is not None], [p.box for p in preds], min_iou)
        by_truth = {m.truth: preds[m.pred] for m in matches}
        scores = [_score(t, by_truth.get(i), i in by_truth, top_n) for i, t in enumerate(truths)]
        return scores, len(preds) - len(matches)
    ranked = sorted(preds, key=lambda p: -p.confidence)
    scores = [
        _score(t, ranked[i] if i < len(ranked) else None, i < len(ranked), top_n)
        for i, t in enumerate(truths)
    ]
    return scores, max(0, len(preds) - len(truths))


@dataclass(frozen=True)
class PlateSummary:
    plates: int
    frames: int
    exact: float
    topn: float
    detection_rate: float
    char_accuracy: float
    false_positives: int
    fp_per_frame: float

    def to_json(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def summarize(scores: Sequence[PlateScore], frames: int, false_positives: int) -> PlateSummary:
    n = len(scores)

    def rate(k: int) -> float:
        return k / n if n else 0.0

    total = sum(len(s.truth) for s in scores)
    dist = sum(s.distance for s in scores)
    return PlateSummary(
        plates=n,
        frames=frames,
        exact=rate(sum(s.exact for s in scores)),
        topn=rate(sum(s.topn for s in scores)),
        detection_rate=rate(sum(s.detected for s in scores)),
        char_accuracy=max(0.0, 1.0 - dist / total) if total else 1.0,
        false_positives=false_positives,
        fp_per_frame=false_positives / frames if frames else 0.0,
    )


def latency_stats(ms: Sequence[float]) -> LatencyStats:
    if len(ms) == 0:
        return LatencyStats(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    a = np.asarray(ms, np.float64)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return LatencyStats(
        len(a), float(a.mean()), float(p50), float(p90), float(p99), float(a.min()), float(a.max())
    )


def confusion_matrix(truths: Sequence[str], preds: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Counts [true class, predicted class]; labels outside `labels` are ignored."""
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), np.int64)
    for t, p in zip(truths, preds, strict=True):
        if t in index and p in index:
            cm[index[t], index[p]] += 1
    return cm


def per_class_accuracy(cm: np.ndarray, labels: Sequence[str]) -> dict[str, float | None]:
    """Recall per true class; None for a class with no samples."""
    out: dict[str, float | None] = {}
    for i, lab in enumerate(labels):
        n = int(cm[i].sum())
        out[lab] = float(cm[i, i]) / n if n else None
    return out


def agreement(a: Sequence[str], b: Sequence[str]) -> float:
    """Fraction of samples where two models give the same top-1 (1.0 for no samples)."""
    if len(a) != len(b):
        raise ValueError(f"agreement of {len(a)} vs {len(b)} predictions")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else 1.0


def accuracy(truths: Sequence[str], preds: Sequence[str]) -> float:
    return agreement(truths, preds) if truths else 0.0
