"""Documents for `bench crops` and `bench e2e`: every (backend, format) over every dataset folder."""

from __future__ import annotations

import argparse
from argparse import Namespace
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_ocr.bench import plots
from edge_ocr.bench.env import peak_rss_mb
from edge_ocr.bench.plates import (
    Item,
    PlateReader,
    Record,
    images_per_second,
    limit_items,
    load_crop_items,
    load_frame_items,
    load_negative_items,
    record_json,
    run_items,
    stage_stats,
    summary_of,
    warm_up,
)
from edge_ocr.bench.run import Outcome, base_doc, pairs_of
from edge_ocr.models import ModelSpec
from edge_ocr.paths import data_root

STAGES = ("decode", "detect", "segment", "classify", "assemble", "sequence", "total")
DEFINITIONS = (
    "Definitions: top-1/exact = the read matched to the labelled plate (IoU >= 0.3 for photos; the most "
    "confident read for crops) has exactly its text; top-N = the text is among that read's N best "
    "candidates; first-read = the reader's first read of a one-plate photo (its ranking, the first "
    "plate `read` prints) is the plate, wherever it was found (a hand count of the `read` JSON); det@0.3 = some read box overlaps the label by IoU >= "
    "0.3; FP/frame = reads matched to no labelled plate; char = 1 - edit distance / truth length. "
    "Times are ms per image from opening the file to the returned reads (decode included, model "
    "loading excluded).",
    "",
)


def default_datasets(kind: str, data: str | None) -> list[Path]:
    root = data_root(data)
    return [root / "bench" / ("seg-and-ocr-us" if kind == "crops" else "endtoend-us")]


def first_read_exact(records: Sequence[Record]) -> float | None:
    """Share of one-plate frames whose first read (the reader's ranking, not bare confidence) is the
    plate, wherever it was found: the count a person makes from the `read` JSON by hand."""
    single = [r for r in records if len(r.item.truths) == 1]
    if not single:
        return None
    hits = sum(bool(r.preds) and r.preds[0].plate == r.item.truths[0].plate for r in single)
    return hits / len(single)


def _headline(kind: str, records: Sequence[Record], top_n: int, negatives: bool) -> dict[str, Any]:
    s = summary_of(records)
    st = stage_stats(records)
    total = st.get("total", {})
    h: dict[str, Any] = {"n": len(records)}
    if negatives:
        h["FP/frame"] = round(s.fp_per_frame, 4)
    else:
        h["exact %" if kind == "crops" else "top-1 %"] = round(100 * s.exact, 2)
        h[f"top-{top_n} %"] = round(100 * s.topn, 2)
        h["char %"] = round(100 * s.char_accuracy, 2)
        if kind == "e2e":
            first = first_read_exact(records)
            h["first-read %"] = None if first is None else round(100 * first, 2)
            h["det@0.3 %"] = round(100 * s.detection_rate, 2)
            h["FP/frame"] = round(s.fp_per_frame, 4)
    h["med ms"] = total.get("median")
    h["p90 ms"] = total.get("p90")
    h["img/s"] = round(images_per_second(records), 2)
    return h


def _run_json(
    name: str, dataset: str, kind: str, records: list[Record], args: argparse.Namespace, negatives: bool
) -> dict[str, Any]:
    s = summary_of(records)
    return {
        "name": name,
        "dataset": dataset,
        "metrics": {**s.to_json(), "first_read_exact": first_read_exact(records)},
        "latency_ms": stage_stats(records),
        "images_per_second": round(images_per_second(records), 3),
        "failed_files": [{"file": str(r.item.path), "error": r.error} for r in records if r.error],
        "headline": _headline(kind, records, args.top_n, negatives),
        "records": [record_json(r) for r in records],
    }


def open_reader(args: argparse.Namespace, backend: str, fmt: str) -> tuple[PlateReader, str]:
    """The real Reader and the sha256 of the model file it runs (loading is not timed)."""
    from edge_ocr.reader.pipeline import Reader

    sha = ModelSpec.load(args.model, fmt, backend).sha256
    return Reader(
        args.model,
        backend,
        fmt,
        args.region,
        args.threads,
        detector=getattr(args, "detector", "auto"),
        reader=getattr(args, "reader", "auto"),
        **getattr(args, "overrides", {}),
    ), sha


def _datasets(kind: str, args: argparse.Namespace) -> list[tuple[str, list[Item], bool]]:
    """(name, items, plate-free?) for every folder asked for, plus the negatives for e2e."""
    crop = kind == "crops"
    folders = [Path(d) for d in args.datasets] or default_datasets(kind, args.data)
    loader = load_crop_items if crop else load_frame_items
    sets = [(f.name, limit_items(loader(f), args.limit), False) for f in folders]
    if not crop and args.negatives:
        sets.append(("negatives", limit_items(load_negative_items(Path(args.negatives)), args.limit), True))
    return sets


def plates_outcome(
    kind: str,
    args: argparse.Namespace,
    opener: Callable[[argparse.Namespace, str, str], tuple[PlateReader, str]] = open_reader,
) -> Outcome:
    crop = kind == "crops"
    args.out.mkdir(parents=True, exist_ok=True)
    sets = _datasets(kind, args)
    runs: list[dict[str, Any]] = []
    totals: dict[str, list[float]] = {}
    worst: list[Record] = []  # misreads of the first run, for the gallery
    sha = {}
    readers = [r for r in str(getattr(args, "reader", "auto")).split(",") if r]
    for (backend, fmt), text_reader in ((pair, r) for pair in pairs_of(args) for r in readers):
        name = f"{backend}-{fmt}" + ("" if text_reader == "auto" else f"-{text_reader}")
        reader, sha[name] = opener(Namespace(**{**vars(args), "reader": text_reader}), backend, fmt)
        for dataset, items, neg in sets:
            warm_up(reader, items, crop, args.warmup)
            label = f"{name} {dataset}"
            records = run_items(reader, items, crop, args.repeat, args.top_n, args.progress, label)
            runs.append(_run_json(name, dataset, kind, records, args, neg))
            totals[label] = [v for r in records for v in r.stages.get("total", [])]
            worst = worst or [r for r in records if any(not s.exact for s in r.scores) or r.false_positives]
    doc = base_doc(kind, args, sha)
    doc["runs"] = runs
    doc["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out = _plots(kind, args, runs, totals)
    if args.errors and worst:
        out.append(_plate_gallery(worst, args.errors, crop, args.out / "errors.png"))
    return Outcome(doc, tuple(out), (*stage_table(runs), *DEFINITIONS))


def _plots(
    kind: str, args: argparse.Namespace, runs: list[dict[str, Any]], totals: dict[str, list[float]]
) -> list[Path]:
    title = f"{kind}: ms per image (decode included), {args.threads} thread(s)"
    out = [plots.latency_hist_png(totals, args.out / "latency-total.png", title)]
    acc = {
        f"{r['name']} {r['dataset']}": {k: v for k, v in r["headline"].items() if "%" in k and v is not None}
        for r in runs
    }
    acc = {k: v for k, v in acc.items() if v}
    if acc:
        out.append(plots.bar_png(acc, args.out / "accuracy.png", f"{kind} accuracy"))
    out.append(_stage_plot(runs, args.out / "latency-stages.png", kind))
    return out


def stage_table(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown: median / p90 ms of every stage per run."""
    stages = [k for k in STAGES if any(k in r["latency_ms"] for r in runs)]
    lines = ["| run (median / p90 ms) | " + " | ".join(stages) + " |", "|---" * (len(stages) + 1) + "|"]
    for r in runs:
        lat = r["latency_ms"]
        cells = [f"{lat[k]['median']:.1f} / {lat[k]['p90']:.1f}" if k in lat else "-" for k in stages]
        lines.append(f"| {r['name']} {r['dataset']} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _stage_plot(runs: Sequence[dict[str, Any]], path: Path, kind: str) -> Path:
    data = {
        f"{r['name']} {r['dataset']}": {
            k: r["latency_ms"][k]["median"] for k in STAGES if k in r["latency_ms"]
        }
        for r in runs
    }
    return plots.bar_png(data, path, f"{kind}: median ms per stage", "ms")


def _plate_gallery(worst: list[Record], n: int, crop: bool, path: Path) -> Path:
    """Worst misreads first (largest edit distance), each with what was expected."""
    ranked = sorted(worst, key=lambda r: -max([s.distance for s in r.scores] + [r.false_positives]))
    tiles = []
    for rec in ranked[:n]:
        img = cv2.imread(str(rec.item.path), cv2.IMREAD_COLOR)
        if img is None:
            img = np.zeros((40, 120, 3), np.uint8)
        if not crop:
            img = _frame_tile(img, rec)
        want = ",".join(t.plate for t in rec.item.truths) or "(no plate)"
        got = ",".join(p.plate for p in rec.preds) or "(none)"
        tiles.append((img, f"{rec.item.path.name}\nwant {want}\nread {got}"))
    return plots.gallery_png(tiles, path, "worst misreads", cols=4)


def _frame_tile(img: np.ndarray, rec: Record) -> np.ndarray:
    """Crop around the labelled plate(s), labelled box green, read boxes red."""
    img = img.copy()
    for t in rec.item.truths:
        if t.box is not None:
            cv2.rectangle(img, (t.box.x, t.box.y), (t.box.x2, t.box.y2), (0, 200, 0), 2)
    for p in rec.preds:
        if p.box is not None:
            cv2.rectangle(img, (p.box.x, p.box.y), (p.box.x2, p.box.y2), (0, 0, 255), 2)
    boxes = [t.box for t in rec.item.truths if t.box is not None]
    if not boxes:
        return img
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    x1, y1 = max(b.x2 for b in boxes), max(b.y2 for b in boxes)
    pad = max(x1 - x0, y1 - y0)
    h, w = img.shape[:2]
    return img[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)]
