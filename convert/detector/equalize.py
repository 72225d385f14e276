"""Cross-layer equalization before int8 export: the same float function, activation ranges int8 can hold.

int8 TFLite gives every activation tensor ONE scale (per tensor) while weights get one per output channel.
After a BatchNorm + ReLU the channels of one tensor differ widely (on the detector's training photos a
channel's largest value is up to 8x the median channel's), so the per-tensor scale is set by the widest
channel and the others keep only a few of the 256 levels.

ReLU is positively homogeneous, relu(s * y) = s * relu(y) for s > 0, so multiplying a BatchNorm's gamma[c]
and beta[c] by s[c] multiplies channel c of the ReLU output by s[c]; a convolution reading that tensor with
its input channel c divided by s[c] computes what it did before (Nagel et al. 2019, "Data-Free
Quantization Through Weight Equalization and Bias Correction"). A residual Add or a nearest upsampling
passes the scaling on unchanged, so tensors joined by them form a group that must share one s: every
BatchNorm+ReLU feeding the group is scaled, every convolution reading from it compensates. Choice of s[c],
with r[c] channel c's largest value relative to its tensor's largest (the worst over the group's tensors,
on the calibration photos) and w[c] likewise for the weights reading it:
- only depthwise readers (weights quantized per channel, so dividing them costs nothing): s[c] = 1 / r[c],
  every channel then spans the full range;
- a regular convolution among the readers (weights quantized per OUTPUT channel, so a grown input channel
  widens every output's range): s[c] = sqrt(w[c] / r[c]), the activation and weight ranges made equal.
A group is left alone when anything but a convolution, Add or upsampling reads it (or it is an output).
"""

from __future__ import annotations

from typing import Any

import numpy as np

S_LIMIT = 100.0  # bound on s and 1/s: a nearly dead channel must not blow its weights up
RANGE_IMAGES = 336  # about this many calibration images (every k-th) measure the channel ranges


class Group:
    """Tensors joined by Add/UpSampling2D, their ReLU producers and the convolutions reading them."""

    def __init__(self) -> None:
        self.tensors: list[Any] = []
        self.bns: list[Any] = []  # the BatchNormalizations before the group's ReLUs: gamma/beta scaled
        self.readers: list[Any] = []
        self.ok = True


def _graph(model: Any) -> tuple[dict[int, Any], dict[int, list[Any]]]:
    """Layer making every tensor id, and the layers reading each tensor id."""
    made: dict[int, Any] = {}
    read: dict[int, list[Any]] = {}
    for layer in model.layers:
        node = layer._inbound_nodes[0]
        for t in node.output_tensors:
            made[id(t)] = layer
        for t in node.input_tensors:
            read.setdefault(id(t), []).append(layer)
    return made, read


def groups(model: Any) -> list[Group]:
    """The groups that can be equalized, in model order (model.layers is topologically sorted)."""
    from keras import layers

    made, read = _graph(model)
    of: dict[int, Group] = {}  # tensor id -> its group
    for layer in model.layers:
        node = layer._inbound_nodes[0]
        t, ins = node.output_tensors[0], [id(x) for x in node.input_tensors]
        if isinstance(layer, layers.ReLU) and layer.max_value is None and isinstance(made.get(ins[0]), layers.BatchNormalization):
            g = Group()
            g.bns.append(made[ins[0]])
        elif isinstance(layer, layers.Add | layers.UpSampling2D) and all(i in of for i in ins):
            g = of[ins[0]]
            for other in {id(of[i]): of[i] for i in ins[1:]}.values():
                if other is not g:  # merge: every tensor of `other` now belongs to g
                    g.tensors += other.tensors
                    g.bns += other.bns
                    for x in other.tensors:
                        of[id(x)] = g
        else:
            continue
        g.tensors.append(t)
        of[id(t)] = g
    unique = list({id(g): g for g in of.values()}.values())
    for g in unique:
        members = {id(t) for t in g.tensors}
        for t in g.tensors:
            readers = read.get(id(t), [])
            g.ok &= bool(readers)  # a model output keeps its values
            for r in readers:
                if isinstance(r, layers.Add | layers.UpSampling2D) and id(r._inbound_nodes[0].output_tensors[0]) in members:
                    continue
                depthwise = isinstance(r, layers.DepthwiseConv2D) and r.kernel.shape[3] == 1
                if depthwise or (isinstance(r, layers.Conv2D) and not isinstance(r, layers.DepthwiseConv2D)):
                    g.readers.append(r)
                else:
                    g.ok = False
    return [g for g in unique if g.ok]


def channel_max(model: Any, tensors: list[Any], x: np.ndarray) -> list[np.ndarray]:
    """Largest value of every channel of each tensor over the inputs x (N, H, W, C), batch 1."""
    import keras

    probe = keras.Model(model.input, tensors)
    mx = [np.zeros(t.shape[-1], np.float64) for t in tensors]
    for i in range(len(x)):
        outs = probe(x[i : i + 1], training=False)
        outs = outs if isinstance(outs, list | tuple) else [outs]
        for k, o in enumerate(outs):
            mx[k] = np.maximum(mx[k], np.asarray(o).max(axis=(0, 1, 2)))
    return mx


def relative(v: np.ndarray) -> np.ndarray:
    return v / max(float(v.max()), 1e-12)


def scales(r: np.ndarray, pointwise_kernels: list[np.ndarray]) -> np.ndarray:
    """s[c] from the relative channel ranges r[c] and the kernels (HWIO) of the regular convolutions."""
    alive = r > 1e-6
    if not alive.any():
        return np.ones_like(r)
    if pointwise_kernels:
        w = np.max([relative(np.abs(k).max(axis=(0, 1, 3))) for k in pointwise_kernels], axis=0)
        s = np.where(alive & (w > 1e-12), np.sqrt(np.maximum(w, 1e-12) / np.maximum(r, 1e-12)), 1.0)
    else:
        s = np.where(alive, 1.0 / np.maximum(r, 1e-12), 1.0)
    s = s / np.exp(np.log(s[alive]).mean())  # the overall level is free (the per-tensor scale absorbs it)
    return np.clip(s, 1.0 / S_LIMIT, S_LIMIT)


def equalize(model: Any, x: np.ndarray) -> dict[str, Any]:
    """Rescale `model`'s weights in place (same float function); x: calibration inputs (training only),
    of which every k-th, about RANGE_IMAGES, measure the ranges. Returns, per group, the widest channel
    over the median one before and after, for export.json."""
    from keras import layers

    x = x[:: max(1, len(x) // RANGE_IMAGES)]

    found = groups(model)
    flat = [t for g in found for t in g.tensors]
    mx = channel_max(model, flat, x)
    report, k = [], 0
    for g in found:
        ranges, k = mx[k : k + len(g.tensors)], k + len(g.tensors)
        r = np.max([relative(m) for m in ranges], axis=0)
        pw = [c.get_weights()[0] for c in g.readers if not isinstance(c, layers.DepthwiseConv2D)]
        s = scales(r, pw)
        for bn in g.bns:
            gamma, beta, mean, var = bn.get_weights()
            bn.set_weights([(gamma * s).astype(np.float32), (beta * s).astype(np.float32), mean, var])
        for c in g.readers:
            kernel, *rest = c.get_weights()
            c.set_weights([(kernel / s[None, None, :, None]).astype(np.float32), *rest])
        report.append({"batchnorms": [b.name for b in g.bns], "readers": [c.name for c in g.readers],
                       "spread_before": _spread(r), "spread_after": _spread(r * s)})
    return {"groups": len(found), "detail": report}


def _spread(r: np.ndarray) -> float:
    alive = r[r > 1e-6]
    return round(float(alive.max() / np.median(alive)), 2) if alive.size else 0.0
