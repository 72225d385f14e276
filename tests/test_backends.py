"""The shipped model through every backend and format: same answers, sane quantization."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.backends import QuantParams, available_backends, dequantize, quantize
from edge_ocr.backends.litert import LiteRTBackend
from edge_ocr.models import ModelSpec
from edge_ocr.preprocess import batch_inputs
from edge_ocr.synth.char import render_char

COMBOS = [("tflite", "int8"), ("tflite", "float"), ("onnx", "int8"), ("onnx", "float")]


@pytest.fixture(scope="module")
def chars() -> tuple[np.ndarray, list[str]]:
    """Rendered characters (fonts committed with the project), every class several times."""
    rng = np.random.default_rng(7)
    labels = list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") * 4
    crops = [render_char(c, rng) for c in labels]
    return batch_inputs(crops, dark_on_light=True), labels


@pytest.fixture(scope="module")
def scores(plate_model_dir: Path, chars: tuple[np.ndarray, list[str]]) -> dict[tuple[str, str], np.ndarray]:
    x, _ = chars
    return {(b, f): ModelSpec.load(plate_model_dir, f, b).open_backend().run(x) for b, f in COMBOS}


def test_both_backends_are_available() -> None:
    assert set(available_backends()) == {"tflite", "onnx"}


def test_outputs_are_probabilities(scores: dict[tuple[str, str], np.ndarray], plate_model_dir: Path) -> None:
    # int8 outputs are rounded to the output scale (1/256): 36 of them may each be off by half a step.
    card = json.loads((plate_model_dir / "card.json").read_text())
    step = card["quantization"]["tflite_int8"]["output_scale"]
    for key, s in scores.items():
        assert s.dtype == np.float32 and s.shape == (144, 36), key
        tol = 36 * step / 2 if key[1] == "int8" else 1e-4
        assert np.all(s >= 0) and np.allclose(s.sum(axis=1), 1.0, atol=tol), key


def test_backends_agree_top1(
    scores: dict[tuple[str, str], np.ndarray], chars: tuple[np.ndarray, list[str]]
) -> None:
    _, labels = chars
    ref = scores[("tflite", "float")].argmax(axis=1)
    for key, s in scores.items():
        agree = float((s.argmax(axis=1) == ref).mean())
        assert agree >= 0.95, f"{key} agrees with tflite float on {agree:.1%} only"
    # Same file format through two runtimes: float TFLite and float ONNX are the same network.
    assert np.abs(scores[("tflite", "float")] - scores[("onnx", "float")]).max() < 1e-3
    names = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    acc = np.mean([names[i] == c for i, c in zip(ref, labels, strict=True)])
    assert acc >= 0.8  # rendered characters are easy; a broken model or label order fails this


def test_batch_equals_one_at_a_time(plate_model_dir: Path, chars: tuple[np.ndarray, list[str]]) -> None:
    x, _ = chars
    for backend, fmt in COMBOS:
        be = ModelSpec.load(plate_model_dir, fmt, backend).open_backend()
        batched = be.run(x[:8])
        single = np.concatenate([be.run(x[i : i + 1]) for i in range(8)])
        np.testing.assert_allclose(batched, single, atol=1e-5, err_msg=f"{backend}/{fmt}")
        assert be.run(x[:0]).shape == (0, 36)


def test_large_batches_run_in_chunks(plate_model_dir: Path, chars: tuple[np.ndarray, list[str]]) -> None:
    """A batch over `max_batch` gives the scores of one run per row, and the interpreter never holds
    more than `max_batch` rows (its arena grows only to that, sized on the first batch of two or more)."""
    x, _ = chars  # 144 rows
    for backend, fmt in COMBOS:
        be = ModelSpec.load(plate_model_dir, fmt, backend).open_backend()
        assert be.max_batch == 32
        chunked = be.run(x[:70])
        single = np.concatenate([be.run(x[i : i + 1]) for i in range(70)])
        np.testing.assert_allclose(chunked, single, atol=1e-5, err_msg=f"{backend}/{fmt}")
        if isinstance(be, LiteRTBackend):
            assert be._interp.get_input_details()[0]["shape"][0] <= 32
    small = LiteRTBackend(plate_model_dir / "model_int8.tflite", max_batch=5)
    both = np.concatenate([small.run(x[i : i + 1]) for i in range(12)])
    np.testing.assert_allclose(small.run(x[:12]), both, atol=1e-5)
    assert small._interp.get_input_details()[0]["shape"][0] == 2  # the last chunk of 12 = 5 + 5 + 2


def test_quantize_round_trip() -> None:
    qp = QuantParams(scale=1.0 / 255.0, zero_point=-128)
    x = np.array([0.0, 128 / 255, 1.0, 2.0, -1.0], np.float32)
    q = quantize(x, qp, np.int8)
    assert q.dtype == np.int8 and list(q) == [-128, 0, 127, 127, -128]  # clipped to the int8 range
    np.testing.assert_allclose(dequantize(q[:3], qp), [0.0, 128 / 255, 1.0], atol=1e-6)
