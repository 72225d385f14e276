"""One row of the input-size / colour comparison: held-out accuracy and int8 detect time of a short run.

Accuracy is measured on the held-out training photos only (threshold chosen there per run), so the
choice of input size is made without looking at bench/ or the evaluation-only sets. Time is the
int8 LiteRT detect call on 1280x720 frames (held-out photos upscaled to that size), one thread.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.detector import data, evaluate, export
from edge_ocr.backends import make_backend
from edge_ocr.bench import detector as bench
from edge_ocr.reader.detect.cnn import letterbox


def int8_ms(path: Path, cfg: Any, photos: list[Path], repeats: int = 3) -> float:
    """Median wall ms of letterbox + int8 run on 1280x720 frames (decode is the same for every size)."""
    cv2.setNumThreads(1)
    be = make_backend("tflite", path, 1)
    frames = [cv2.resize(data.load_image(p), (1280, 720)) for p in photos]
    times = []
    for _ in range(repeats):
        for f in frames:
            t0 = time.perf_counter()
            canvas, _ = letterbox(f, cfg.size, cfg.channels)
            be.run(canvas[None].astype(np.float32) / 255.0)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def compare(model: Any, cfg: Any, data_dir: Path, work: Path) -> dict[str, Any]:
    run = evaluate.runner(evaluate.keras_forward(model), cfg.size, cfg.channels, cfg.stride)
    recs = evaluate.heldout_records(run, data_dir)
    pooled = [r for v in recs.values() for r in v]
    t = bench.choose_threshold(pooled)
    files = work / "model"
    export.export(model, cfg, data_dir, files, work, quick=False)
    _, held = data.split_scenes(data_dir)
    res = {
        "size": f"{cfg.width}x{cfg.height}", "channels": cfg.channels, "threshold": t,
        "heldout": bench.summarize(pooled, t).__dict__,
        "per_source": {k: bench.summarize(v, t).__dict__ for k, v in recs.items()},
        "int8_bytes": (files / "model_int8.tflite").stat().st_size,
        "int8_ms_median": int8_ms(files / "model_int8.tflite", cfg, [s.path for s in held[:40]]),
        "train": json.loads((work / "train_config.json").read_text()),
    }
    (work / "compare.json").write_text(json.dumps(res, indent=1))
    return res
