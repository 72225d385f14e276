"""The int8 ONNX file made from the int8 TFLite file (convert.quantize.onnx_int8_from_tflite) computes what
the TFLite file computes: one quantized network for both runtimes, not two separately calibrated ones."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.backends.litert import LiteRTBackend
from edge_ocr.backends.onnx import OnnxBackend

MODELS = Path(__file__).resolve().parents[1] / "models"


def _out_scale(tflite: Path) -> float:
    from ai_edge_litert.interpreter import Interpreter

    return float(Interpreter(model_path=str(tflite)).get_output_details()[0]["quantization"][0])


def _inputs(shape: tuple[int, ...], n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    x = rng.random((n, *shape), np.float32)
    x[: n // 2] = np.round(x[: n // 2])  # half of them black-and-white: saturated activations
    return x


def test_shipped_plate_seq_onnx_int8_reads_like_its_tflite_file() -> None:
    folder = MODELS / "plate-seq"
    card = json.loads((folder / "card.json").read_text())
    assert "onnx_int8_from_tflite" in card["export"]["onnx_int8"]["method"]
    tfl = LiteRTBackend(folder / "model_int8.tflite")
    onx = OnnxBackend(folder / "model_int8.onnx")
    x = _inputs(tfl.input_hwc, 24)
    a, b = tfl.run(x).reshape(len(x), -1), onx.run(x)
    step = _out_scale(folder / "model_int8.tflite")
    # equal here; one output step of rounding slack for other CPUs (the calibrated file was 3.75 logits off)
    assert np.abs(a - b).max() <= step + 1e-6
    classes = card["num_classes"]
    assert (
        a.reshape(len(x), -1, classes).argmax(-1) == b.reshape(len(x), -1, classes).argmax(-1)
    ).mean() >= 0.999


def test_conversion_of_a_small_model_matches_and_refuses_float(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    from convert.plate_chars.train import setup_tf
    from convert.quantize import FILES, export_tflite, onnx_int8_from_tflite

    keras = setup_tf(3, 1)  # the threads every TF test sets: TF refuses a change once it has started
    model = keras.Sequential(
        [
            keras.Input((16, 24, 1)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.DepthwiseConv2D(3, padding="same"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(11, 1),
            keras.layers.Reshape((8 * 12, 11)),
        ]
    )
    calib = _inputs((16, 24, 1), 32)
    export_tflite(model, calib, tmp_path)
    onnx_path = tmp_path / "converted.onnx"
    onnx_int8_from_tflite(tmp_path / FILES["tflite_int8"], onnx_path)
    tfl, onx = LiteRTBackend(tmp_path / FILES["tflite_int8"]), OnnxBackend(onnx_path)
    x = _inputs((16, 24, 1), 12)
    a, b = tfl.run(x).reshape(len(x), -1), onx.run(x)
    assert a.shape == b.shape == (12, 8 * 12 * 11)
    assert np.abs(a - b).max() <= _out_scale(tmp_path / FILES["tflite_int8"]) + 1e-6
    assert np.abs(a).max() > 0  # a real network, not zeros on both sides
    with pytest.raises(ValueError, match="not int8"):
        onnx_int8_from_tflite(tmp_path / FILES["tflite_float"], tmp_path / "float.onnx")


DATA = Path(os.environ.get("EDGE_OCR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.mark.skipif(not (DATA / "plates").is_dir(), reason="../shared/data absent")
def test_reonnx_refuses_a_set_that_is_not_the_cards(tmp_path: Path) -> None:
    """`python -m convert.sequence onnx` rewrites nothing when the TFLite file does not read the held-out set
    as its card says (here: a dozen lines per source and no renders, not the card's 1,323)."""
    pytest.importorskip("tf2onnx")
    from convert.sequence.reonnx import CardMismatch, reonnx

    out = tmp_path / "plate-seq"
    shutil.copytree(MODELS / "plate-seq", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(CardMismatch, match="not the card's set"):
        reonnx(out, tmp_path / "work", DATA, quick=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert (tmp_path / "work" / "export" / "model_int8.onnx").is_file()  # converted, measured, not shipped
