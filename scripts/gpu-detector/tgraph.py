"""A torch executor of convert/detector/model.py's Keras config (NHWC weights <-> NCHW torch), by layer name."""
from __future__ import annotations
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _history(args):
    out = []
    if isinstance(args, dict):
        if args.get("class_name") == "__keras_tensor__":
            return [args["config"]["keras_history"][0]]
        for v in args.values():
            out += _history(v)
    elif isinstance(args, (list, tuple)):
        for v in args:
            out += _history(v)
    return out


def _same_pad(x, k, s):
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class KGraph(nn.Module):
    def __init__(self, config: dict) -> None:
        super().__init__()
        self.order, self.inputs, self.kind, self.cfg = [], {}, {}, {}
        self.convs, self.bns = nn.ModuleDict(), nn.ModuleDict()
        for L in config["layers"]:
            name, cls, c = L["name"], L["class_name"], L["config"]
            self.order.append(name)
            self.kind[name], self.cfg[name] = cls, c
            self.inputs[name] = [h for node in L.get("inbound_nodes", []) for h in _history(node["args"])]
            if cls == "Conv2D":
                self.convs[name] = nn.Conv2d(self.in_ch(name, config), c["filters"], c["kernel_size"], c["strides"], 0, bias=c["use_bias"])
            elif cls == "DepthwiseConv2D":
                ch = self.in_ch(name, config)
                self.convs[name] = nn.Conv2d(ch, ch, c["kernel_size"], c["strides"], 0, groups=ch, bias=c["use_bias"])
            elif cls == "BatchNormalization":
                self.bns[name] = nn.BatchNorm2d(self.in_ch(name, config), eps=c["epsilon"], momentum=1 - c["momentum"])
        o = config["output_layers"]
        self.out_name = o[0] if isinstance(o[0], str) else o[0][0]

    @staticmethod
    def in_ch(name, config):
        for L in config["layers"]:
            if L["name"] == name:
                a = L["inbound_nodes"][0]["args"][0]
                return int(a["config"]["shape"][-1])
        raise KeyError(name)

    def forward(self, x):  # x NCHW float
        t = {}
        for name in self.order:
            k, c, ins = self.kind[name], self.cfg[name], [t[i] for i in self.inputs[name]]
            if k == "InputLayer":
                t[name] = x
            elif k in ("Conv2D", "DepthwiseConv2D"):
                ks, st = c["kernel_size"][0], c["strides"][0]
                t[name] = self.convs[name](_same_pad(ins[0], ks, st))
            elif k == "BatchNormalization":
                t[name] = self.bns[name](ins[0])
            elif k == "ReLU":
                t[name] = F.relu(ins[0])
            elif k == "Add":
                t[name] = ins[0] + ins[1]
            elif k == "UpSampling2D":
                t[name] = F.interpolate(ins[0], scale_factor=2, mode="nearest")
            elif k == "Activation":
                assert c["activation"] == "sigmoid"
                t[name] = torch.sigmoid(ins[0])
            elif k == "Concatenate":
                t[name] = torch.cat(ins, 1)
            else:
                raise ValueError(k)
        return t[self.out_name]

    def load_keras(self, w: dict) -> None:
        with torch.no_grad():
            for name, m in self.convs.items():
                k = w[f"{name}:0"]
                if self.kind[name] == "Conv2D":
                    m.weight.copy_(torch.from_numpy(k.transpose(3, 2, 0, 1).copy()))
                else:
                    m.weight.copy_(torch.from_numpy(k.transpose(2, 3, 0, 1).copy()))
                if m.bias is not None:
                    m.bias.copy_(torch.from_numpy(w[f"{name}:1"]))
            for name, m in self.bns.items():
                for i, p in enumerate((m.weight, m.bias, m.running_mean, m.running_var)):
                    p.copy_(torch.from_numpy(w[f"{name}:{i}"]))

    def keras_weights(self) -> dict:
        out = {}
        for name, m in self.convs.items():
            k = m.weight.detach().cpu().numpy()
            out[f"{name}:0"] = k.transpose(2, 3, 1, 0) if self.kind[name] == "Conv2D" else k.transpose(2, 3, 0, 1)
            if m.bias is not None:
                out[f"{name}:1"] = m.bias.detach().cpu().numpy()
        for name, m in self.bns.items():
            for i, p in enumerate((m.weight, m.bias, m.running_mean, m.running_var)):
                out[f"{name}:{i}"] = p.detach().cpu().numpy()
        return {k: np.ascontiguousarray(v, np.float32) for k, v in out.items()}


def focal(gt, pred):
    pred = pred.clamp(1e-4, 1 - 1e-4)
    pos = (gt >= 1.0).float()
    pos_l = -torch.log(pred) * (1 - pred) ** 2 * pos
    neg_l = -torch.log(1 - pred) * pred ** 2 * (1 - gt) ** 4 * (1 - pos)
    return (pos_l.sum() + neg_l.sum()) / pos.sum().clamp(min=1.0)


def loss_ltrb(y, pred, size=(320, 192)):
    """convert/detector/model.py detector_loss, box 'ltrb'; y, pred NHWC."""
    heat = focal(y[..., 0], pred[..., 0])
    mask = y[..., 5]
    n = mask.sum().clamp(min=1.0)
    scale = torch.tensor([size[0], size[1], size[0], size[1]], dtype=y.dtype, device=y.device)
    dt, dp = y[..., 1:5] ** 2 * scale, pred[..., 1:5] ** 2 * scale
    iw = torch.minimum(dt[..., 0], dp[..., 0]) + torch.minimum(dt[..., 2], dp[..., 2])
    ih = torch.minimum(dt[..., 1], dp[..., 1]) + torch.minimum(dt[..., 3], dp[..., 3])
    inter = iw * ih
    at = (dt[..., 0] + dt[..., 2]) * (dt[..., 1] + dt[..., 3])
    ap = (dp[..., 0] + dp[..., 2]) * (dp[..., 1] + dp[..., 3])
    iou = inter / (at + ap - inter).clamp(min=1e-6)
    l1 = (pred[..., 1:5] - y[..., 1:5]).abs().sum(-1)
    box = ((2.0 * (1.0 - iou) + 2.0 * l1) * mask).sum() / n
    return heat + box, heat, box
