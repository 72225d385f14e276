"""ONNX int8 calibration in chunks (convert/quantize.py): the same ranges as one pass over all images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime.quantization")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from convert.quantize import export_onnx_int8  # noqa: E402


def _tiny_conv(path: Path) -> None:
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["out"])],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4, 8, 8])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _activation_scales(path: Path) -> dict[str, float]:
    m = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    return {
        n.input[0]: float(inits[n.input[1]])
        for n in m.graph.node
        if n.op_type == "QuantizeLinear" and n.input[1] in inits and inits[n.input[1]].size == 1
    }


def test_chunked_calibration_sees_every_image(tmp_path: Path) -> None:
    _tiny_conv(tmp_path / "f.onnx")
    x = np.random.default_rng(1).uniform(0, 1, (10, 1, 8, 8)).astype(np.float32)
    x[9] *= 3.0  # the widest range sits in the last, shorter chunk (images 8 and 9)
    export_onnx_int8(tmp_path / "f.onnx", x, tmp_path / "all.onnx")
    export_onnx_int8(tmp_path / "f.onnx", x, tmp_path / "chunks.onnx", chunk=4)  # 10 images: chunks of 4, 4 and 2
    export_onnx_int8(tmp_path / "f.onnx", x[::4], tmp_path / "every4th.onnx")
    whole, chunked, sparse = (_activation_scales(tmp_path / f) for f in ("all.onnx", "chunks.onnx", "every4th.onnx"))
    assert whole and whole.keys() == chunked.keys()
    for name, scale in whole.items():
        assert chunked[name] == pytest.approx(scale, rel=1e-6)
    # every 4th image misses image 9: its input range is narrower, which is what chunking fixes
    assert sparse["input"] < whole["input"]
