"""Cross-layer equalization before int8 export: the same float function, activation ranges int8 can hold.

int8 TFLite gives every activation tensor ONE scale (per tensor) while weights get one per output channel.
After a BatchNorm + ReLU the channels of one tensor differ widely (measured on the detector's training
photos: a depthwise output's largest channel reached ~177 while most stay under a few units), so the
per-tensor scale is set by the widest channel and the others keep only a few of the 256 levels.

ReLU is positively homogeneous, relu(s * y) = s * relu(y) for s > 0, so for a chain
    BatchNorm (gamma, beta) -> ReLU -> convolution reading channel c with kernel[..., c, :]
multiplying gamma[c] and beta[c] by s[c] and dividing the next kernel's input channel c by s[c] leaves
the network's output unchanged (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization
and Bias Correction"). Choice of s[c], with r[c] the channel's largest activation on the calibration
photos and w[c] the largest weight reading it:
- next layer depthwise (its weights are quantized per channel, so dividing them costs nothing):
  s[c] = max(r) / r[c], every channel then spans the tensor's full range;
- next layer a regular convolution (weights quantized per OUTPUT channel, so a grown input channel
  widens every output's weight range): s[c] = sqrt(w[c] / r[c]), which makes the channel's activation
  range and its weight range equal (sqrt(r w)), balancing the two quantization errors.
Only a ReLU whose output has one reader is changed (a residual Add also reading it would see the change).
"""

from __future__ import annotations

from typing import Any

import numpy as np

S_LIMIT = 100.0  # bound on s and 1/s: a nearly dead channel must not blow its weights up


def _producers(model: Any) -> tuple[dict[int, Any], dict[int, list[Any]]]:
    """Layer of every tensor id, and the layers reading each tensor id."""
    made: dict[int, Any] = {}
    read: dict[int, list[Any]] = {}
    for layer in model.layers:
        node = layer._inbound_nodes[0]
        for t in node.output_tensors:
            made[id(t)] = layer
        for t in node.input_tensors:
            read.setdefault(id(t), []).append(layer)
    return made, read


def chains(model: Any) -> list[tuple[Any, Any, Any]]:
    """(BatchNormalization, ReLU, next convolution) triples that can be equalized."""
    import keras

    made, read = _producers(model)
    out = []
    for relu in model.layers:
        if not isinstance(relu, keras.layers.ReLU) or relu.max_value is not None:
            continue
        node = relu._inbound_nodes[0]
        bn = made.get(id(node.input_tensors[0]))
        readers = read.get(id(node.output_tensors[0]), [])
        if isinstance(bn, keras.layers.BatchNormalization) and len(readers) == 1:
            nxt = readers[0]
            depthwise = isinstance(nxt, keras.layers.DepthwiseConv2D) and nxt.kernel.shape[3] == 1
            if depthwise or isinstance(nxt, keras.layers.Conv2D):
                out.append((bn, relu, nxt))
    return out


def channel_max(model: Any, relus: list[Any], x: np.ndarray) -> list[np.ndarray]:
    """Largest value of every channel of each ReLU output over the inputs x (N, H, W, C), batch 1."""
    import keras

    probe = keras.Model(model.input, [r.output for r in relus])
    mx = [np.zeros(r.output.shape[-1], np.float64) for r in relus]
    for i in range(len(x)):
        outs = probe(x[i : i + 1], training=False)
        outs = outs if isinstance(outs, list | tuple) else [outs]
        for k, o in enumerate(outs):
            mx[k] = np.maximum(mx[k], np.asarray(o).max(axis=(0, 1, 2)))
    return mx


def scales(r: np.ndarray, kernel: np.ndarray, depthwise: bool) -> np.ndarray:
    """s[c] for a ReLU output channel range r[c] read by `kernel` (HWIO, or HW C 1 for depthwise)."""
    alive = r > 1e-6
    if not alive.any():
        return np.ones_like(r)
    if depthwise:
        s = np.where(alive, r.max() / np.maximum(r, 1e-12), 1.0)
    else:
        w = np.abs(kernel).max(axis=(0, 1, 3))
        s = np.where(alive & (w > 1e-12), np.sqrt(np.maximum(w, 1e-12) / np.maximum(r, 1e-12)), 1.0)
        s = s / np.exp(np.log(s[alive]).mean())  # overall level is free (per-tensor scale absorbs it)
    return np.clip(s, 1.0 / S_LIMIT, S_LIMIT)


def equalize(model: Any, x: np.ndarray) -> dict[str, Any]:
    """Rescale `model`'s weights in place (same float function); x: calibration inputs (training only).
    Returns the per-chain widest/narrowest activation range before and after, for export.json."""
    import keras

    found = chains(model)
    before = channel_max(model, [r for _, r, _ in found], x)
    report = []
    for (bn, relu, nxt), r in zip(found, before, strict=True):
        depthwise = isinstance(nxt, keras.layers.DepthwiseConv2D)
        kernel, *rest = nxt.get_weights()
        s = scales(r, kernel, depthwise)
        gamma, beta, mean, var = bn.get_weights()
        bn.set_weights([(gamma * s).astype(np.float32), (beta * s).astype(np.float32), mean, var])  # BN output x s; relu(s y) = s relu(y)
        nxt.set_weights([(kernel / s[None, None, :, None]).astype(np.float32), *rest])
        after = r * s
        report.append({"layer": relu.name, "next": nxt.name, "range_max_over_median_before": _spread(r),
                       "range_max_over_median_after": _spread(after)})
    return {"chains": len(found), "detail": report}


def _spread(r: np.ndarray) -> float:
    alive = r[r > 1e-6]
    return round(float(alive.max() / np.median(alive)), 2) if alive.size else 0.0

