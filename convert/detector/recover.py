"""Keras weights back from a shipped float ONNX file, so a later run can continue from what shipped.

Training runs keep their Keras weights only under the ignored build/ folder; when that is lost, the
float ONNX file is the full-precision record of the network. tf2onnx changes its form, so the weights
are found by walking both graphs in step from the input rather than by name or by order:

- NHWC (Keras) vs NCHW (ONNX): a 1x1/3x3 Conv2D kernel is ONNX OIHW -> Keras HWIO (transpose 2, 3, 1, 0);
  a depthwise kernel is ONNX (C, 1, kh, kw) with group = C -> Keras (kh, kw, C, 1) (transpose 2, 3, 0, 1).
- BatchNorm after a regular convolution is folded into it (the ONNX Conv gains a bias): the Keras conv
  takes the folded kernel and the BatchNorm becomes identity plus that bias (gamma 1, beta bias, moving
  mean 0, moving variance 1 - epsilon, so (x - 0) / sqrt(1 - eps + eps) = x).
- BatchNorm after a depthwise convolution stays as Mul + Add by per-channel constants: gamma = the Mul
  constant, beta = the Add constant, moving mean 0 and variance 1 - epsilon as above.
- UpSampling2D is a chain of Shape/Tile/Reshape/Transpose ops with no weights; its output is matched at
  the Add that joins it with the mapped skip branch.

The result computes the same function as the file (float rounding aside); the moving statistics no
longer mean anything, which is fine: train.recompute_bn re-estimates them at the end of the next run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from convert.detector.model import build


class RecoverError(RuntimeError):
    """The ONNX graph does not have the shape of convert/detector/model.py's network."""


class _Graph:
    """Consumers of every tensor and the constant initializers of an ONNX model."""

    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        g = onnx.load(str(path)).graph
        self.consts = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in g.initializer}
        self.users: dict[str, list[Any]] = defaultdict(list)
        for n in g.node:
            for t in n.input:
                self.users[t].append(n)
        self.input = g.input[0].name

    def only(self, tensor: str, op: str, pred: Any = None) -> Any:
        hits = [n for n in self.users[tensor] if n.op_type == op and (pred is None or pred(n))]
        if len(hits) != 1:
            raise RecoverError(f"{len(hits)} {op} nodes read {tensor}, expected 1")
        return hits[0]

    def group(self, node: Any) -> int:
        return next((int(a.i) for a in node.attribute if a.name == "group"), 1)

    def const_of(self, node: Any) -> np.ndarray | None:
        """The constant operand of a binary Mul/Add (None when both operands are computed)."""
        c = [self.consts[t] for t in node.input if t in self.consts]
        return c[0].reshape(-1) if len(c) == 1 else None


def _conv(g: _Graph, layer: Any, src: str) -> tuple[str, np.ndarray | None]:
    """Set a Conv2D/DepthwiseConv2D layer from the ONNX Conv reading `src`; returns (output, folded bias)."""
    import keras

    depthwise = isinstance(layer, keras.layers.DepthwiseConv2D)
    k = layer.kernel.shape
    if depthwise:
        node = g.only(src, "Conv", lambda n: g.group(n) == k[2] and g.consts[n.input[1]].shape == (k[2], 1, k[0], k[1]))
        kernel = g.consts[node.input[1]].transpose(2, 3, 0, 1)
    else:
        node = g.only(src, "Conv", lambda n: g.group(n) == 1 and g.consts[n.input[1]].shape == (k[3], k[2], k[0], k[1]))
        kernel = g.consts[node.input[1]].transpose(2, 3, 1, 0)
    bias = g.consts[node.input[2]].reshape(-1) if len(node.input) > 2 and node.input[2] else None
    if layer.use_bias:
        layer.set_weights([kernel, bias if bias is not None else np.zeros(k[-1] if not depthwise else k[2], np.float32)])
        return node.output[0], None
    layer.set_weights([kernel])
    return node.output[0], bias


def _batchnorm(g: _Graph, layer: Any, src: str, folded: np.ndarray | None) -> str:
    """Set a BatchNormalization layer to the affine map ONNX applies after its convolution."""
    ch = layer.gamma.shape[0]
    var = np.full(ch, 1.0 - layer.epsilon, np.float32)  # (x - 0) / sqrt(var + eps) == x
    gamma, beta, out = np.ones(ch, np.float32), np.zeros(ch, np.float32), src
    if folded is not None:
        beta = folded
    else:
        mul = [n for n in g.users[src] if n.op_type == "Mul" and g.const_of(n) is not None]
        if len(mul) == 1:
            add = g.only(mul[0].output[0], "Add", lambda n: g.const_of(n) is not None)
            scale, shift = g.const_of(mul[0]), g.const_of(add)
            if scale is None or shift is None:
                raise RecoverError(f"{layer.name}: BatchNorm Mul/Add without constants")
            gamma = np.broadcast_to(scale, (ch,)).astype(np.float32)
            beta = np.broadcast_to(shift, (ch,)).astype(np.float32)
            out = add.output[0]
    layer.set_weights([gamma, beta, np.zeros(ch, np.float32), var])
    return out


def _add(g: _Graph, srcs: list[str | None]) -> str:
    """The ONNX Add joining the mapped inputs (an unmapped one is an upsampling chain's output)."""
    known = [s for s in srcs if s is not None]
    if not known:
        raise RecoverError("an Add with no mapped input")
    node = g.only(known[0], "Add", lambda n: all(s in n.input for s in known) and g.const_of(n) is None)
    return str(node.output[0])


def load_onnx_weights(model: Any, onnx_path: Path) -> int:
    """Copy the weights of `onnx_path` into `model` (built by model.build with the same settings);
    returns the number of weighted layers set. Raises RecoverError where the graphs disagree."""
    import keras

    g = _Graph(onnx_path)
    nchw = g.only(g.input, "Transpose").output[0]  # tf2onnx's NHWC -> NCHW at the input
    mapped: dict[int, str | None] = {}
    folded: dict[str, np.ndarray | None] = {}  # conv output tensor -> the bias BatchNorm was folded into
    done = 0
    for layer in model.layers:
        node = layer._inbound_nodes[0]
        ins = [mapped.get(id(t)) for t in node.input_tensors]
        out: str | None = None
        if isinstance(layer, keras.layers.InputLayer):
            out = nchw
        elif isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D):
            if ins[0] is None:
                raise RecoverError(f"{layer.name}: input not found in the ONNX graph")
            conv_out, folded[conv_out] = _conv(g, layer, ins[0])
            out = conv_out
            done += 1
        elif isinstance(layer, keras.layers.BatchNormalization):
            out = _batchnorm(g, layer, str(ins[0]), folded.get(str(ins[0])))
            done += 1
        elif isinstance(layer, keras.layers.ReLU):
            out = str(g.only(str(ins[0]), "Relu").output[0])
        elif isinstance(layer, keras.layers.Add):
            out = _add(g, ins)
        elif layer.weights:
            raise RecoverError(f"{layer.name}: weighted layer of unhandled type {type(layer).__name__}")
        for t in node.output_tensors:
            mapped[id(t)] = out
    return done


def onnx_parity(model: Any, onnx_path: Path, x: np.ndarray) -> float:
    """Largest absolute difference between the Keras model and the ONNX file on inputs x (N, H, W, C)."""
    from convert.verify import run_onnx

    ref = run_onnx(onnx_path, x, batch=1)
    got = np.concatenate([np.asarray(model(x[i : i + 1], training=False)) for i in range(len(x))])
    return float(np.abs(ref - got).max())


def recover(model_dir: Path, work: Path, probe: np.ndarray | None = None) -> dict[str, Any]:
    """Rebuild the shipped network from model_dir/card.json, load model_float.onnx, save
    work/final.weights.h5 and a train_config.json that carries the card's training record (so
    card.lineage continues the shipped run table and train.init_box sees the box encoding)."""
    card = json.loads((model_dir / "card.json").read_text())
    det, tr = card["detector"], card.get("training", {})
    model = build((det["input_height"], det["input_width"]), det["channels"], float(tr.get("model_width", 1.0)))
    n = load_onnx_weights(model, model_dir / "model_float.onnx")
    x = probe if probe is not None else np.random.default_rng(0).random((2, *model.input_shape[1:]), np.float32)
    err = onnx_parity(model, model_dir / "model_float.onnx", x)
    work.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(work / "final.weights.h5"))
    conf = {**tr, "box": det.get("box", "center"), "recovered_from": str(model_dir / "model_float.onnx"),
            "recovered_sha256": card["files"]["onnx_float"]["sha256"], "parity_max_abs": err}
    (work / "train_config.json").write_text(json.dumps(conf, indent=1))
    return {"layers": n, "max_abs_vs_onnx": err, "weights": str(work / "final.weights.h5")}
