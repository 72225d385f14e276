"""convert/detector/recover.py: Keras weights back from a float ONNX file (BatchNorm folded by tf2onnx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")


def _randomise(model: Any, rng: np.random.Generator) -> None:
    """Non-trivial weights and BatchNorm statistics, so a wrong layout or a missed fold shows."""
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = ws
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.2, b.shape),
                               rng.normal(0, 0.2, m.shape), rng.uniform(0.5, 2.0, v.shape)])
        else:
            layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in ws])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A small random network and its float ONNX file, written by the project's export path."""
    from convert.detector.model import build
    from convert.quantize import export_onnx_float

    src = build((64, 96), 3, width=0.5)
    _randomise(src, np.random.default_rng(3))
    path = tmp_path_factory.mktemp("recover") / "model_float.onnx"
    export_onnx_float(src, path)
    return src, path


def test_onnx_weights_round_trip(exported: tuple[Any, Path]) -> None:
    """float ONNX -> a fresh Keras network of the same settings: the same outputs."""
    from convert.detector.model import build
    from convert.detector.recover import load_onnx_weights, onnx_parity

    src, path = exported
    dst = build((64, 96), 3, width=0.5)
    assert load_onnx_weights(dst, path) == sum(1 for la in dst.layers if la.weights)
    x = np.random.default_rng(4).random((2, 64, 96, 3), np.float32)
    assert onnx_parity(dst, path, x) < 1e-4
    want = np.asarray(src(x, training=False))
    assert float(np.abs(np.asarray(dst(x, training=False)) - want).max()) < 1e-4


def test_a_different_network_is_refused(exported: tuple[Any, Path]) -> None:
    """Weights of another width do not fit: an error, not a silently wrong model."""
    from convert.detector.model import build
    from convert.detector.recover import RecoverError, load_onnx_weights

    with pytest.raises(RecoverError):
        load_onnx_weights(build((64, 96), 3, width=1.0), exported[1])


def test_lineage_continues_a_recovered_card(tmp_path: Path) -> None:
    """A run started from recovered weights: the card's run table, then the new run."""
    import json

    from convert.detector.card import lineage

    shipped = [{"run": "main", "box": "center", "steps": 5, "batch": 16, "train_size": "320x192", "lr": 0.003,
                "minutes": 1}]
    (tmp_path / "recovered").mkdir()
    (tmp_path / "next").mkdir()
    (tmp_path / "recovered" / "train_config.json").write_text(json.dumps({"lineage": shipped, "init": None}))
    (tmp_path / "next" / "train_config.json").write_text(json.dumps(
        {"width": 320, "height": 192, "batch": 32, "lr": 0.001, "seconds": 120.0, "steps_done": 9,
         "init": str(tmp_path / "recovered" / "final.weights.h5")}))
    assert [r["run"] for r in lineage(tmp_path / "next")] == ["main", "next"]
