"""The one character preprocessing shared by training (convert/) and inference (classify.py).

A model is only as good as the agreement between what it saw in training and what it sees on the
device, so both sides call `char_input` and the model card records `PreprocessSpec`.

Convention of the model input: float32 in [0, 1], the character BRIGHT on a DARK background,
tightened to its ink and letterboxed (aspect ratio kept) into a size x size square.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np


@dataclass(frozen=True)
class PreprocessSpec:
    size: int = 32
    margin: int = 2
    low_pct: float = 2.0
    high_pct: float = 98.0
    tighten: bool = True

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["polarity"] = "light-on-dark"
        d["range"] = [0.0, 1.0]
        d["layout"] = "HW (batch adds N in front and C=1 behind: NHWC)"
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PreprocessSpec:
        keys = {"size", "margin", "low_pct", "high_pct", "tighten"}
        return cls(**{k: v for k, v in d.items() if k in keys})


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def guess_dark_on_light(gray: np.ndarray) -> bool:
    """Background is what the border mostly shows: brighter border means dark ink."""
    border = np.concatenate([gray[0, :], gray[-1, :], gray[:, 0], gray[:, -1]]).astype(np.float32)
    return float(np.median(border)) >= float(gray.mean())


def percentiles(img: np.ndarray, q_lo: float, q_hi: float) -> np.ndarray:
    """`np.percentile(img, [q_lo, q_hi])` (method "linear"): the same float64 values, bit for bit
    (tests/test_preprocess_fast.py), in a quarter of the time. np.percentile's general wrappers cost
    ~135 us a call here, and a photo's read stretches ~50 character crops."""
    f = img.ravel()
    n = f.size
    v = (n - 1) * (np.array([q_lo, q_hi], np.float64) / 100)  # numpy's virtual index for "linear"
    prev = np.floor(v)
    nxt = prev + 1
    prev[v >= n - 1] = nxt[v >= n - 1] = n - 1
    prev[v < 0] = nxt[v < 0] = 0
    pi, ni = prev.astype(np.intp), nxt.astype(np.intp)
    part = np.partition(f, np.unique(np.concatenate(([0, n - 1], pi, ni))))
    a, b = part[pi], part[ni]
    t = v - prev
    d = b - a
    out = a + d * t
    upper = t >= 0.5  # numpy's lerp from the upper end there (numpy.lib._function_base_impl._lerp)
    out[upper] = (b - d * (1 - t))[upper]
    return out


def _stretch(img: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    lo, hi = percentiles(img, spec.low_pct, spec.high_pct)
    if hi - lo < 1e-3:
        return np.zeros_like(img, dtype=np.float32)
    return np.clip((img - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def _ink_bbox(img: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box of the ink: Otsu foreground components that matter, border fragments dropped."""
    u8 = (img * 255).astype(np.uint8)
    _, fg = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = int(np.argmax(areas)) + 1
    h, w = img.shape
    keep = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < 0.05 * areas[big - 1]:
            continue
        touches = x == 0 or y == 0 or x + bw >= w or y + bh >= h
        if touches and i != big:
            continue
        keep.append((x, y, x + bw, y + bh))
    ks = np.array(keep)
    x1, y1 = ks[:, 0].min(), ks[:, 1].min()
    x2, y2 = ks[:, 2].max(), ks[:, 3].max()
    return int(x1), int(y1), int(x2), int(y2)


def char_input(
    crop: np.ndarray, spec: PreprocessSpec = PreprocessSpec(), dark_on_light: bool | None = None
) -> np.ndarray:
    """Turn a character crop (grey or BGR uint8, either polarity) into the model's (size, size) input."""
    gray = to_gray(crop).astype(np.float32)
    if gray.size == 0 or min(gray.shape) < 2:
        return np.zeros((spec.size, spec.size), np.float32)
    if dark_on_light is None:
        dark_on_light = guess_dark_on_light(gray)
    if dark_on_light:
        gray = 255.0 - gray
    img = _stretch(gray, spec)
    if spec.tighten:
        bb = _ink_bbox(img)
        if bb is not None:
            x1, y1, x2, y2 = bb
            img = img[y1:y2, x1:x2]
    return letterbox(img, spec.size, spec.margin)


def letterbox(img: np.ndarray, size: int, margin: int) -> np.ndarray:
    """Scale so the longer side fills size - 2*margin, centre it on a zero square."""
    h, w = img.shape
    inner = size - 2 * margin
    scale = inner / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(img, (nw, nh), interpolation=interp)
    out = np.zeros((size, size), np.float32)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return out


def batch_inputs(
    crops: list[np.ndarray], spec: PreprocessSpec = PreprocessSpec(), dark_on_light: bool | None = None
) -> np.ndarray:
    """Stack crops into an NHWC float32 batch (N, size, size, 1)."""
    if not crops:
        return np.zeros((0, spec.size, spec.size, 1), np.float32)
    return np.stack([char_input(c, spec, dark_on_light) for c in crops])[..., None]
