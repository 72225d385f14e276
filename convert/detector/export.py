"""Export the detector through the project's path (convert/quantize.py): float and int8 TFLite, float
and QDQ int8 ONNX, calibrated on training photos only. The weights are first equalized across layers
(convert/detector/equalize.py: the same float function, activation ranges int8 holds better).

The character models' parity check (convert/verify.py) compares softmax top-1; a detector's parity is
recall and precision at the chosen threshold, measured per file through the device's own CnnDetector
in convert/detector/card.py. Here only the raw output grids are compared, to catch a broken file early.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from convert.detector import data
from convert.quantize import FILES, export_all

log = logging.getLogger("convert.detector")
CALIB_PHOTOS = 240  # training photos (+ 40 training-half negatives) for the int8 ranges; measured on the
# held-out photos (issue 15), 73 to all 1348 calibration images changed int8 heat and box errors by no more
# than their spread (0.0115-0.0121, 0.0031-0.0035); the ranges, not their sample, were the problem


def calibration(cfg: Any, data_dir: Path, quick: bool) -> np.ndarray:
    """Letterboxed training photos exactly as the device sees them (no augmentation), every k-th one
    so all three sources are represented, plus plate-free frames from the training half."""
    train, _ = data.split_scenes(data_dir)
    step = max(1, len(train) // (8 if quick else CALIB_PHOTOS))
    paths = [s.path for s in train[::step]] + data.negatives(data_dir, data.NEG_TRAIN_HALF)[: 2 if quick else 40]
    xs = [data.eval_input(data.load_image(p), cfg.size, cfg.channels)[0] for p in paths]
    return np.stack([x.reshape(cfg.height, cfg.width, cfg.channels) for x in xs]).astype(np.float32)


def _grid(path: Path, x: np.ndarray) -> np.ndarray:
    from edge_ocr.backends import make_backend

    be = make_backend("onnx" if path.suffix == ".onnx" else "tflite", path, 1)
    return np.concatenate([be.run(x[i : i + 1]).reshape(1, -1) for i in range(len(x))])


def grid_parity(out: Path, x: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Mean absolute difference of each file's output grid from Keras float (heat channel 0..1)."""
    return {k: float(np.abs(_grid(out / name, x) - reference.reshape(len(x), -1)).mean()) for k, name in FILES.items()}


def export(model: Any, cfg: Any, data_dir: Path, out: Path, work: Path, quick: bool) -> dict[str, Any]:
    """Write the four files into `out`; record quantization parameters and grid parity in work/."""
    import keras
    import tensorflow as tf

    from convert.detector.equalize import equalize

    calib = calibration(cfg, data_dir, quick)
    trained, model = model, keras.models.clone_model(model)  # the caller's weights stay as trained
    model.set_weights(trained.get_weights())
    eq = equalize(model, calib[:: max(1, len(calib) // 84)])
    q = export_all(model, calib, out)
    probe = calib[:: max(1, len(calib) // 16)]
    ref, ref_trained = (np.concatenate([np.asarray(m(tf.constant(probe[i : i + 1]), training=False))
                                        for i in range(len(probe))]) for m in (model, trained))
    info = {
        "tflite_quant": {"input_scale": q.input_scale, "input_zero_point": q.input_zero_point,
                         "output_scale": q.output_scale, "output_zero_point": q.output_zero_point},
        "calibration_images": len(calib),
        "equalization": eq,
        "equalized_vs_trained_max_abs": float(np.abs(ref - ref_trained).max()),
        "grid_mae_vs_keras": grid_parity(out, probe, ref),
        "sizes_bytes": {k: (out / n).stat().st_size for k, n in FILES.items()},
        "params": int(model.count_params()),
    }
    (work / "export.json").write_text(json.dumps(info, indent=1))
    log.info("export %s", json.dumps(info))
    return info
