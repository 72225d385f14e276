"""Scene photos for detector training: augmentation and CenterNet targets. Loading and the by-photo split
live in edge_ocr.bench.scene_split (benchmarks read the same held-out photos) and are re-exported here.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_ocr.bench.scene_split import (  # noqa: F401 - re-exported: convert.detector's own names
    EVAL_ONLY_SETS,
    HELDOUT_PCT,
    NEG_TRAIN_HALF,
    TRAIN_SETS,
    Scene,
    bucket,
    is_heldout,
    load_image,
    load_set,
    negative_half,
    negatives,
    read_boxes,
    split_scenes,
)
from edge_ocr.reader.detect.cnn import PAD_VALUE, letterbox


def random_view(
    img: np.ndarray, boxes: np.ndarray, size: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A random zoom/crop/flip of `img` letterboxed to `size`, boxes mapped with it.

    Zooming in (up to 2.5x) teaches large close plates; zooming out (down to 0.6x) pads the frame and
    makes plates as small as in a 1280x720 photo shrunk to 320 px.
    """
    w, h = size
    ih, iw = img.shape[:2]
    base = min(w / iw, h / ih)
    s = base * float(np.exp(rng.uniform(np.log(0.6), np.log(2.5))))
    tx = rng.uniform(min(0.0, w - iw * s), max(0.0, w - iw * s))
    ty = rng.uniform(min(0.0, h - ih * s), max(0.0, h - ih * s))
    flip = rng.random() < 0.5
    m = np.array([[-s if flip else s, 0, (tx + iw * s) if flip else tx], [0, s, ty]], np.float32)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR, borderValue=(PAD_VALUE,) * 3)
    b = boxes.copy() * s
    if flip:  # the warp maps x to tx + s * (iw - x): the box's right edge becomes its left
        b[:, 0] = iw * s - b[:, 0] - b[:, 2]
    b[:, 0] += tx
    b[:, 1] += ty
    return out, clip_boxes(b, size)


def clip_boxes(b: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Clip to the canvas; plates less than half inside are dropped (the target would mislead)."""
    w, h = size
    x0, y0 = np.clip(b[:, 0], 0, w), np.clip(b[:, 1], 0, h)
    x1, y1 = np.clip(b[:, 0] + b[:, 2], 0, w), np.clip(b[:, 1] + b[:, 3], 0, h)
    area = np.maximum(b[:, 2] * b[:, 3], 1e-6)
    keep = ((x1 - x0) * (y1 - y0) / area >= 0.5) & (x1 - x0 >= 2) & (y1 - y0 >= 1)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)[keep].astype(np.float32)


def photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness/contrast/colour cast, low light, blur, noise and JPEG: the cameras the device meets."""
    x: np.ndarray = img.astype(np.float32)
    x = x * rng.uniform(0.5, 1.3) + rng.uniform(-30, 30)
    x = x * rng.uniform(0.85, 1.15, size=3)[None, None, :]
    if rng.random() < 0.2:  # night: dark and noisy
        x = x * rng.uniform(0.2, 0.5)
    if rng.random() < 0.3:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.3))
    if rng.random() < 0.4:
        x = x + rng.normal(0, rng.uniform(2, 10), x.shape)
    out: np.ndarray = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        dec = cv2.imdecode(enc, cv2.IMREAD_COLOR) if ok else None
        out = out if dec is None else dec
    if rng.random() < 0.1:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return out


def targets(
    boxes: np.ndarray, size: tuple[int, int], stride: int, box: str = "center", norm: tuple[int, int] | None = None
) -> np.ndarray:
    """(H/s, W/s, 6) float32: heat, 4 box channels (encoding `box`, see cnn.py), regression weight.

    The heat is an elliptical Gaussian (sigma = box side / 6, at least 0.6 cell) because plates are
    ~4:1 and a round blob would either spill over the car or miss the plate's ends. "center" regresses
    at the centre cell only; "ltrb" at every cell whose centre lies inside the plate's middle (a fifth
    of its width and height each side of the centre, at least the nearest cells), weighted by the heat
    there, so one plate gives the box head several examples; smaller plates are written last and win
    a cell that two plates share. `norm`: the network's input size that the encoding is relative to
    (default `size`; a training patch smaller than the input keeps the input's).
    """
    gw, gh = size[0] // stride, size[1] // stride
    w, h = norm or size
    t = np.zeros((gh, gw, 6), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    for x, y, bw, bh in boxes[np.argsort(-boxes[:, 2] * boxes[:, 3], kind="stable")] if len(boxes) else boxes:
        cx, cy = (x + bw / 2) / stride, (y + bh / 2) / stride
        j, i = min(gw - 1, int(cx)), min(gh - 1, int(cy))
        sx, sy = max(0.6, bw / stride / 6), max(0.6, bh / stride / 6)
        g = np.exp(-((xs - j) ** 2) / (2 * sx * sx) - ((ys - i) ** 2) / (2 * sy * sy))
        t[..., 0] = np.maximum(t[..., 0], g)
        t[i, j, 0] = 1.0
        if box == "center":
            t[i, j, 1:6] = [cx - j, cy - i, np.sqrt(bw / w), np.sqrt(bh / h), 1.0]
            continue
        px, py = (xs + 0.5) * stride, (ys + 0.5) * stride  # cell centres in input pixels
        rx, ry = max(0.2 * bw, 0.75 * stride), max(0.2 * bh, 0.75 * stride)
        inside = (px > x) & (px < x + bw) & (py > y) & (py < y + bh)
        near = (np.abs(px - (x + bw / 2)) <= rx) & (np.abs(py - (y + bh / 2)) <= ry)
        m = inside & near
        m[i, j] = True  # the peak cell always learns a box; for a plate smaller than a cell its centre
        # may fall outside, and the distances are clipped to half a pixel (a box off by < 2 px)
        d = np.maximum(np.stack([px - x, py - y, x + bw - px, y + bh - py], axis=-1), 0.5)
        enc = np.sqrt(np.clip(d / np.array([w, h, w, h], np.float32), 0.0, 1.0))
        t[m, 1:5] = enc[m]
        t[m, 5] = np.maximum(g[m], 0.25)
        t[i, j, 5] = 1.0
    return t


def eval_input(img: np.ndarray, size: tuple[int, int], channels: int) -> tuple[np.ndarray, float]:
    """Exactly the device's preprocessing (letterbox from cnn.py) as a float [0, 1] array."""
    canvas, scale = letterbox(img, size, channels)
    return canvas.astype(np.float32) / 255.0, scale
