"""`bench crops` and `bench e2e`: read labelled images through the Reader and score them.

Timing starts when the file is opened and ends when the reads are returned, so decode is included
(it is part of what a frame costs); model loading and start-up are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from edge_ocr.bench.metrics import (
    PlateScore,
    PlateSummary,
    Pred,
    Truth,
    latency_stats,
    score_frame,
    summarize,
)
from edge_ocr.bench.plate_sets import PlateSample, load_endtoend, load_name_crops, load_seg_and_ocr
from edge_ocr.bench.timing import now_ms
from edge_ocr.errors import EdgeOcrError
from edge_ocr.types import PlateRead

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
Progress = Callable[[Sequence[Any], str], Iterable[Any]]


class PlateReader(Protocol):
    @property
    def last_timings(self) -> dict[str, float]: ...

    def read_crop(self, image: np.ndarray) -> PlateRead | None: ...

    def read_frame(self, image: np.ndarray) -> list[PlateRead]: ...


@dataclass(frozen=True)
class Item:
    """One image to read and what should be read from it (nothing, for a plate-free frame)."""

    path: Path
    truths: tuple[Truth, ...]


@dataclass(frozen=True)
class Record:
    item: Item
    preds: tuple[Pred, ...]
    stages: dict[str, list[float]] = field(default_factory=dict)  # ms per stage, one entry per repeat
    error: str = ""
    scores: tuple[PlateScore, ...] = ()
    false_positives: int = 0


def load_crop_items(folder: Path) -> list[Item]:
    """Either crop layout: `groundtruth.csv` (seg_and_ocr) or text in the name (`PLATE_n.jpg`)."""
    samples = load_seg_and_ocr(folder) if (folder / "groundtruth.csv").exists() else load_name_crops(folder)
    return [Item(s.path, (Truth(s.plate),)) for s in samples]


def load_frame_items(folder: Path) -> list[Item]:
    """OpenALPR endtoend layout; several label lines for one image make one multi-plate item."""
    by_path: dict[Path, list[PlateSample]] = {}
    for s in load_endtoend(folder):
        by_path.setdefault(s.path, []).append(s)
    return [Item(p, tuple(Truth(s.plate, s.box) for s in ss)) for p, ss in sorted(by_path.items())]


def load_negative_items(folder: Path) -> list[Item]:
    if not folder.is_dir():
        raise EdgeOcrError(f"negatives folder not found: {folder}")
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )
    return [Item(p, ()) for p in files]


def limit_items(items: Sequence[Item], limit: int | None) -> list[Item]:
    return list(items if limit is None else items[: max(0, limit)])


def to_pred(read: PlateRead, with_box: bool) -> Pred:
    cands = tuple(c.plate for c in read.candidates)
    return Pred(read.plate, float(read.confidence), read.box if with_box else None, cands)


def _read_once(reader: PlateReader, path: Path, crop: bool) -> tuple[list[PlateRead], dict[str, float]]:
    """One timed read, decoding with the same checks `edge-ocr read` applies."""
    from edge_ocr.imageio import load_image

    t0 = now_ms()
    image = load_image(path)
    t1 = now_ms()
    if crop:
        one = reader.read_crop(image)
        reads = [one] if one is not None else []
    else:
        reads = reader.read_frame(image)
    t2 = now_ms()
    stages = {"decode": t1 - t0}
    skip = ("decode", "total", "detect") if crop else ("decode", "total")  # crops are not detected
    stages.update({k: float(v) for k, v in reader.last_timings.items() if k not in skip})
    stages["total"] = t2 - t0
    return reads, stages


def read_item(reader: PlateReader, item: Item, crop: bool, repeat: int, top_n: int) -> Record:
    """Read one image `repeat` times (accuracy from the first read), then score it."""
    stages: dict[str, list[float]] = {}
    reads: list[PlateRead] = []
    try:
        for r in range(max(1, repeat)):
            got, st = _read_once(reader, item.path, crop)
            if r == 0:
                reads = got
            for k, v in st.items():
                stages.setdefault(k, []).append(v)
    except (EdgeOcrError, OSError, cv2.error) as exc:
        scores, fp = score_frame(item.truths, [], top_n)
        return Record(item, (), {}, str(exc), tuple(scores), fp)
    preds = tuple(to_pred(p, not crop) for p in reads)
    scores, fp = score_frame(item.truths, preds, top_n)
    return Record(item, preds, stages, "", tuple(scores), fp)


def warm_up(reader: PlateReader, items: Sequence[Item], crop: bool, n: int) -> None:
    """Untimed reads so the first timed image does not pay for lazy initialisation."""
    for i in range(n):
        if items:
            try:
                _read_once(reader, items[i % len(items)].path, crop)
            except (EdgeOcrError, OSError, cv2.error):
                continue


def run_items(
    reader: PlateReader,
    items: Sequence[Item],
    crop: bool,
    repeat: int,
    top_n: int,
    progress: Progress,
    label: str,
) -> list[Record]:
    return [read_item(reader, it, crop, repeat, top_n) for it in progress(items, label)]


def summary_of(records: Sequence[Record]) -> PlateSummary:
    scores = [s for r in records for s in r.scores]
    return summarize(scores, len(records), sum(r.false_positives for r in records))


def stage_stats(records: Sequence[Record]) -> dict[str, dict[str, float]]:
    """Latency per stage over every timed read (repeats included)."""
    names: list[str] = []
    for r in records:
        names.extend(k for k in r.stages if k not in names)
    return {k: latency_stats([v for r in records for v in r.stages.get(k, [])]).to_json() for k in names}


def images_per_second(records: Sequence[Record]) -> float:
    totals = [v for r in records for v in r.stages.get("total", [])]
    return 1000.0 * len(totals) / sum(totals) if totals and sum(totals) > 0 else 0.0


def record_json(r: Record) -> dict[str, Any]:
    return {
        "file": r.item.path.name,
        "truth": [t.plate for t in r.item.truths],
        "read": [p.plate for p in r.preds],
        "exact": [s.exact for s in r.scores],
        "detected": [s.detected for s in r.scores],
        "false_positives": r.false_positives,
        "total_ms": round(float(np.median(r.stages["total"])), 3) if r.stages.get("total") else None,
        **({"error": r.error} if r.error else {}),
    }
