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
from convert.quantize import FILES, export_onnx_float, export_onnx_int8, export_tflite

log = logging.getLogger("convert.detector")
ONNX_CALIB_CHUNK = 64  # onnxruntime's MinMax calibrator keeps every intermediate tensor of every image in
# memory until the end (~1348 images would need many GB): it calibrates 64 at a time and merges the ranges.
# Until session 16 it got every 4th image instead, and its int8 file lost 1.7 pp of held-out recall.


def calibration(cfg: Any, data_dir: Path, quick: bool) -> np.ndarray:
    """Letterboxed training photos exactly as the device sees them (no augmentation), all of them, plus
    the plate-free frames of the training half. Every photo, not a sample: the int8 ranges are the
    largest values seen, and with 240 photos (+ 40 frames) held-out plates went past them, so int8 heat
    at plates read low (held-out photos, equalized export, mean int8 - float heat where float > 0.3:
    -0.0066 with 336 images, +0.0004 with all 1348) and recall at a fixed threshold fell (issue 15)."""
    train, _ = data.split_scenes(data_dir)
    photos = [s.path for s in train][:: max(1, len(train) // 8) if quick else 1]
    negs = data.negatives(data_dir, data.NEG_TRAIN_HALF)
    xs = [data.eval_input(data.load_image(p), cfg.size, cfg.channels)[0] for p in photos + negs[: 2 if quick else None]]
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
    eq = equalize(model, calib)
    out.mkdir(parents=True, exist_ok=True)
    q = export_tflite(model, calib, out)
    export_onnx_float(model, out / FILES["onnx_float"])
    export_onnx_int8(out / FILES["onnx_float"], calib, out / FILES["onnx_int8"], ONNX_CALIB_CHUNK)
    probe = calib[:: max(1, len(calib) // 16)]
    ref, ref_trained = (np.concatenate([np.asarray(m(tf.constant(probe[i : i + 1]), training=False))
                                        for i in range(len(probe))]) for m in (model, trained))
    info = {
        "tflite_quant": {"input_scale": q.input_scale, "input_zero_point": q.input_zero_point,
                         "output_scale": q.output_scale, "output_zero_point": q.output_zero_point},
        "calibration_images": {"tflite": len(calib), "onnx": len(calib)},
        "equalization": eq,
        "equalized_vs_trained_max_abs": float(np.abs(ref - ref_trained).max()),
        "grid_mae_vs_keras": grid_parity(out, probe, ref),
        "sizes_bytes": {k: (out / n).stat().st_size for k, n in FILES.items()},
        "params": int(model.count_params()),
    }
    (work / "export.json").write_text(json.dumps(info, indent=1))
    log.info("export %s", json.dumps(info))
    return info
