"""Evaluate a Keras detector (float, before export) with the device's own letterbox and decoder.

Training-time figures must mean the same as device figures, so the Keras path differs from
CnnDetector only in who runs the network: letterbox, decode and NMS are edge_ocr's functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from convert.detector import data
from edge_ocr.bench import detector as bench
from edge_ocr.reader.detect.cnn import CnnParams, decode, letterbox, nms

Forward = Callable[[np.ndarray], np.ndarray]  # (1, H, W, C) float [0, 1] -> (1, H/s, W/s, 5)


def keras_forward(model: Any) -> Forward:
    import tensorflow as tf

    fn = tf.function(lambda x: model(x, training=False))
    return lambda x: np.asarray(fn(tf.constant(x)))


def runner(forward: Forward, size: tuple[int, int], channels: int, stride: int, box: str = "center") -> bench.Runner:
    p = CnnParams()

    def run(img: np.ndarray) -> np.ndarray:
        canvas, scale = letterbox(img, size, channels)
        out = forward(canvas[None].astype(np.float32) / 255.0)[0]
        boxes = nms(decode(out, stride, size, bench.FLOOR, p.candidates, box), p.nms_iou, p.max_proposals)
        boxes[:, :4] /= scale
        return boxes

    return run


def scene_items(scenes: list[data.Scene]) -> list[tuple[str, Path, np.ndarray]]:
    return [(s.path.name, s.path, s.boxes) for s in scenes]


def heldout_records(run: bench.Runner, data_dir: Path, limit: int = 0) -> dict[str, list[bench.Record]]:
    """Held-out photos of each training source, recorded separately (the first `limit` when > 0)."""
    _, held = data.split_scenes(data_dir)
    per = {src: scene_items([s for s in held if s.source == src]) for src in data.TRAIN_SETS}
    return {src: bench.collect(run, iter(v[:limit] if limit else v)) for src, v in per.items()}


def report(run: bench.Runner, data_dir: Path, threshold: float | None, full: bool, limit: int = 0) -> dict[str, Any]:
    """Threshold (chosen on pooled held-out photos when None) and summaries per set; `full` adds the
    evaluation-only sets and both halves of negatives/ (reported, never tuned on); bench/ is measured by
    edge_ocr.bench.detector only."""
    recs = heldout_records(run, data_dir, limit)
    pooled = [r for v in recs.values() for r in v]
    t = bench.choose_threshold(pooled) if threshold is None else threshold
    sets: dict[str, list[bench.Record]] = {f"heldout/{k}": v for k, v in recs.items()}
    sets["heldout/all"] = pooled
    if full and not limit:
        for name in data.EVAL_ONLY_SETS:
            sets[name] = bench.collect(run, bench.scene_items(data_dir / "scenes" / name))
        for half in (0, 1):
            paths = data.negatives(data_dir, half)
            sets[f"negatives/half{half}"] = bench.collect(run, iter([(p.name, p, np.zeros((0, 4), np.float32)) for p in paths]))
    return {
        "threshold": t,
        "sets": {k: asdict(bench.summarize(v, t)) for k, v in sets.items()},
        "curves": {k: bench.pr_curve(v).tolist() for k, v in sets.items()},
    }


def save(rep: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rep, indent=1))
