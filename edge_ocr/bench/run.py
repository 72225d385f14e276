"""Assemble benchmark documents for the three kinds of run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from edge_ocr.bench import plots
from edge_ocr.bench.chars import CharRun, CharSet, compare_formats, load_char_set, run_chars
from edge_ocr.bench.env import code_version, machine_info, peak_rss_mb, utc_now
from edge_ocr.paths import data_root


@dataclass(frozen=True)
class Outcome:
    doc: dict[str, Any]
    plots: tuple[Path, ...]
    extra_md: tuple[str, ...] = ()


def progress_fn(enabled: bool) -> Callable[[Sequence[Any], str], Iterable[Any]]:
    def wrap(seq: Sequence[Any], desc: str) -> Iterable[Any]:
        return tqdm(seq, desc=desc, disable=not enabled, file=sys.stderr, leave=False, dynamic_ncols=True)

    return wrap


def base_doc(kind: str, args: argparse.Namespace, model_sha: dict[str, str]) -> dict[str, Any]:
    return {
        "schema": "edge-ocr-bench/1",
        "kind": kind,
        "created": utc_now(),
        "command": "edge-ocr bench " + " ".join(args.argv),
        "machine": machine_info(),
        "code": code_version(),
        "settings": {
            "threads": args.threads,
            "warmup": args.warmup,
            "repeat": args.repeat,
            "limit": args.limit,
            "backends": args.backends,
            "formats": args.formats,
            "region": getattr(args, "region", None),
            "reader_overrides": getattr(args, "overrides", {}),  # --set NAME=VALUE
        },
        "model": {"dir": str(args.model), "sha256": model_sha},
    }


def pairs_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    return [(b, f) for b in args.backends for f in args.formats]


# ---------------------------------------------------------------- chars


def chars_outcome(args: argparse.Namespace) -> Outcome:
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.datasets or ["plate-tiles", "plate-box-pages", "vn-char-boxes", "in-plate-chars"]
    charset = load_char_set(names, data_root(args.data), args.split, args.limit)
    runs = run_chars(
        args.model, charset, pairs_of(args), args.threads, args.warmup, args.repeat, args.progress
    )
    doc = base_doc("chars", args, {r.name: r.sha256 for r in runs})
    doc["dataset"] = {"name": charset.name, "n": len(charset.samples)}
    doc["runs"] = [{**r.to_json(), "dataset": args.split, "headline": _char_headline(r)} for r in runs]
    doc["float_vs_int8"] = compare_formats(runs)
    doc["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out_plots = _char_plots(args, runs, charset)
    if args.errors:
        out_plots.append(_char_gallery(runs, charset.samples, args.errors, args.out / "errors.png"))
    return Outcome(doc, tuple(out_plots), tuple(format_table(doc["float_vs_int8"])))


def _char_plots(args: argparse.Namespace, runs: Sequence[CharRun], charset: CharSet) -> list[Path]:
    out = [
        plots.confusion_png(
            r.confusion(),
            r.labels,
            args.out / f"confusion-{r.name}.png",
            f"{r.name} on {charset.name} ({r.accuracy:.2%})",
        )
        for r in runs
    ]
    per_char = {
        r.name: {"b1 median": r.batch1.median * 1000, "b8 median": r.batch8.median * 1000} for r in runs
    }
    title = f"latency per character, {args.threads} thread(s)"
    out.append(plots.bar_png(per_char, args.out / "latency-per-char.png", title, "µs"))
    return out


def format_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown: float vs int8 per backend."""
    if not rows:
        return []
    head = ["| backend | float acc | int8 acc | drop (pp) | top-1 agreement |", "|---|---|---|---|---|"]
    body = [
        f"| {c['backend']} | {c['float_accuracy']:.2%} | {c['int8_accuracy']:.2%} | {c['drop_pp']:.2f} | "
        f"{c['agreement']:.2%} |"
        for c in rows
    ]
    return [*head, *body, ""]


def _char_headline(r: CharRun) -> dict[str, Any]:
    return {
        "n": len(r.truths),
        "acc %": round(100 * r.accuracy, 2),
        "b1 med ms": round(r.batch1.median, 4),
        "b1 p90 ms": round(r.batch1.p90, 4),
        "b8 med ms/char": round(r.batch8.median, 4),
        "b8 p90 ms/char": round(r.batch8.p90, 4),
    }


def _char_gallery(runs: Sequence[CharRun], samples: Sequence[Any], n: int, path: Path) -> Path:
    run = next((r for r in runs if r.fmt == "int8"), runs[0])
    wrong = [i for i, (t, p) in enumerate(zip(run.truths, run.preds, strict=True)) if t != p]
    wrong.sort(key=lambda i: -run.confidences[i])
    tiles = [
        (samples[i].image, f"{run.truths[i]} read {run.preds[i]} ({run.confidences[i]:.2f})")
        for i in wrong[:n]
    ]
    return plots.gallery_png(tiles, path, f"most confident misreads, {run.name}", cols=8)
