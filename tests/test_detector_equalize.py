"""Int8 export of the detector: cross-layer equalization keeps the float function, and the heat and box
logits get their own int8 scales (issue 15: one shared scale cost int8 recall)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tensorflow")


def _randomise(model: Any, rng: np.random.Generator) -> None:
    """Non-trivial weights and BatchNorm statistics with channel ranges that differ widely."""
    for layer in model.layers:
        ws = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = ws
            layer.set_weights([rng.uniform(0.1, 5.0, g.shape), rng.normal(0, 0.5, b.shape),
                               rng.normal(0, 0.2, m.shape), rng.uniform(0.5, 2.0, v.shape)])
        elif ws:
            layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in ws])


@pytest.fixture(scope="module")
def small() -> tuple[Any, np.ndarray]:
    from convert.detector.model import build

    model = build((64, 96), 3, width=0.5)
    _randomise(model, np.random.default_rng(5))
    return model, np.random.default_rng(6).random((6, 64, 96, 3), np.float32)


def test_equalize_keeps_the_function_and_evens_the_ranges(small: tuple[Any, np.ndarray]) -> None:
    import keras

    from convert.detector.equalize import channel_max, equalize, groups

    src, x = small
    model = keras.models.clone_model(src)
    model.set_weights(src.get_weights())
    before = np.asarray(model(x, training=False))
    info = equalize(model, x)
    assert info["groups"] >= 15  # the stem, every depthwise -> pointwise pair, the residual stages
    assert any(len(d["batchnorms"]) > 1 for d in info["detail"])  # groups joined through Adds
    np.testing.assert_allclose(np.asarray(model(x, training=False)), before, atol=2e-5)
    lone = [g for g in groups(model) if len(g.tensors) == 1 and all(
        isinstance(r, keras.layers.DepthwiseConv2D) for r in g.readers)]
    assert lone
    for r in channel_max(model, [g.tensors[0] for g in lone], x):
        alive = r[r > 1e-6]  # read per channel only: every range made the widest
        np.testing.assert_allclose(alive, alive.max(), rtol=1e-3)


def test_int8_heat_and_box_logits_have_their_own_scales(small: tuple[Any, np.ndarray], tmp_path: Path) -> None:
    """The sigmoids come before the concatenation, so the two 1x1 head convolutions keep separate ranges."""
    from ai_edge_litert.interpreter import Interpreter

    from convert.quantize import export_tflite

    model, x = small
    export_tflite(model, x, tmp_path)
    it = Interpreter(model_path=str(tmp_path / "model_int8.tflite"))
    tensors = {d["index"]: d for d in it.get_tensor_details()}
    ops = it._get_ops_details()
    logistic = [o for o in ops if o["op_name"] == "LOGISTIC"]
    assert len(logistic) == 2
    heads = {int(tensors[o["inputs"][0]]["shape"][-1]): tensors[o["inputs"][0]]["quantization"] for o in logistic}
    assert sorted(heads) == [1, 4] and heads[1] != heads[4]
    assert it.get_output_details()[0]["shape"].tolist() == [1, 16, 24, 5]
