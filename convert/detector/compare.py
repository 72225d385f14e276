"""Input-size comparison: held-out accuracy and int8 detect time per input size.

`compare` measures a short training run at its own size; `size_sweep` runs the final weights (the
network is fully convolutional) exported at other input sizes, which isolates what the input size
itself costs and buys at inference.

Accuracy is measured on the held-out training photos only (threshold chosen there per run), so the
choice of input size is made without looking at bench/ or the evaluation-only sets. Time is the
int8 LiteRT detect call on 1280x720 frames (held-out photos upscaled to that size), one thread.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.detector import data, evaluate, export
from edge_ocr.backends import make_backend
from edge_ocr.bench import detector as bench
from edge_ocr.reader.detect.cnn import letterbox


def int8_ms(path: Path, cfg: Any, photos: list[Path], repeats: int = 3) -> dict[str, float]:
    """Median wall and CPU ms of letterbox + int8 run on 1280x720 frames (decode costs the same for
    every size); CPU time because the machine is shared and wall time includes waiting."""
    cv2.setNumThreads(1)
    be = make_backend("tflite", path, 1)
    frames = [cv2.resize(data.load_image(p), (1280, 720)) for p in photos]
    wall, cpu = [], []
    for _ in range(repeats):
        for f in frames:
            t0, c0 = time.perf_counter(), time.process_time()
            canvas, _ = letterbox(f, cfg.size, cfg.channels)
            be.run(canvas[None].astype(np.float32) / 255.0)
            wall.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
    return {"int8_ms_median": statistics.median(wall), "int8_cpu_ms_median": statistics.median(cpu)}


def compare(model: Any, cfg: Any, data_dir: Path, work: Path) -> dict[str, Any]:
    run = evaluate.runner(evaluate.keras_forward(model), cfg.size, cfg.channels, cfg.stride, cfg.box)
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
        **int8_ms(files / "model_int8.tflite", cfg, [s.path for s in held[:40]]),
        "train": json.loads((work / "train_config.json").read_text()),
    }
    (work / "compare.json").write_text(json.dumps(res, indent=1))
    return res


def _int8_runner(path: Path, size: tuple[int, int], stride: int, box: str = "center") -> bench.Runner:
    be = make_backend("tflite", path, 1)
    return evaluate.runner(lambda x: be.run(x).reshape(1, size[1] // stride, size[0] // stride, 5), size, 3, stride, box)


def size_sweep(
    cfg: Any, data_dir: Path, work: Path, sizes: tuple[tuple[int, int], ...], quick: bool = False
) -> dict[str, Any]:
    """Final weights at each (w, h): int8 TFLite held-out recall/precision (own threshold) and time."""
    from convert.detector.equalize import equalize
    from convert.detector.model import build
    from convert.quantize import export_tflite

    _, held = data.split_scenes(data_dir)
    res = {}
    for w, h in sizes:
        sub = replace(cfg, width=w, height=h)
        model = build((h, w), cfg.channels, cfg.model_width)
        model.load_weights(str(work / "final.weights.h5"))
        d = work / f"size_{w}x{h}"
        d.mkdir(parents=True, exist_ok=True)
        calib = export.calibration(sub, data_dir, quick)
        equalize(model, calib)  # as export.export does for the shipped files
        export_tflite(model, calib, d)
        recs = evaluate.heldout_records(_int8_runner(d / "model_int8.tflite", (w, h), cfg.stride, cfg.box), data_dir, 3 if quick else 0)
        pooled = [r for v in recs.values() for r in v]
        t = bench.choose_threshold(pooled)
        res[f"{w}x{h}"] = {
            "size": f"{w}x{h}", "channels": cfg.channels, "threshold": t,
            "heldout": bench.summarize(pooled, t).__dict__,
            **int8_ms(d / "model_int8.tflite", sub, [s.path for s in held[: 2 if quick else 40]]),
        }
    (work / "sizes.json").write_text(json.dumps(res, indent=1))
    return res
