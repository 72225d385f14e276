"""Synthetic composites: edge_ocr.synth plates warped in perspective onto plate-free backgrounds.

The real training photos hold ~1,800 plates, mostly from three countries; composites add every plate
style the renderer knows, at every size and tilt, on backgrounds that really contain no plate (the
training half of negatives/, and synthetic roads), so the heatmap learns "plate" rather than "car".
Composites are drawn at twice the input size and shrunk, so plate strokes blur the way real ones do.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_ocr.synth import augment
from edge_ocr.synth.plate import render_plate
from edge_ocr.synth.scene import draw_car, road_background
from edge_ocr.synth.styles import STYLES, random_plate_text


def _background(bgs: list[np.ndarray], size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if not bgs or rng.random() < 0.2:
        return road_background(size, rng)
    bg = bgs[int(rng.integers(len(bgs)))]
    bh, bw = bg.shape[:2]
    s = max(size[0] / bw, size[1] / bh) * rng.uniform(1.0, 1.6)
    big = cv2.resize(bg, (int(bw * s) + 1, int(bh * s) + 1), interpolation=cv2.INTER_LINEAR)
    x = int(rng.integers(0, big.shape[1] - size[0] + 1))
    y = int(rng.integers(0, big.shape[0] - size[1] + 1))
    out = big[y : y + size[1], x : x + size[0]]
    return np.ascontiguousarray(out[:, ::-1] if rng.random() < 0.5 else out)


def _quad(pw: int, ph: int, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Target corners: 3-35 % of the frame wide (log-uniform), tilted up to 12 degrees, skewed."""
    w, h = size
    tw = w * float(np.exp(rng.uniform(np.log(0.03), np.log(0.35))))
    th = tw * ph / pw * rng.uniform(0.8, 1.2)
    quad = augment.jitter_quad(tw, th, rng, rot_deg=12.0, persp=0.12)
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    qx = rng.uniform(-lo[0], max(-lo[0] + 1, w - hi[0]))
    qy = rng.uniform(-lo[1], max(-lo[1] + 1, h - hi[1]))
    return quad + np.array([qx, qy])


def _paste(img: np.ndarray, plate: np.ndarray, quad: np.ndarray) -> None:
    h, w = img.shape[:2]
    ph, pw = plate.shape[:2]
    m = augment.homography(np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64), quad)
    warped = cv2.warpPerspective(plate, m, (w, h), flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(np.ones((ph, pw), np.float32), m, (w, h))[..., None]
    img[:] = np.clip(img * (1 - alpha) + warped * alpha, 0, 255).astype(np.uint8)


def composite(
    bgs: list[np.ndarray], size: tuple[int, int], rng: np.random.Generator, crops: list[np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One frame of `size` (w, h) with 1-3 plates and their boxes (N, 4) in its pixels; with `crops`
    (real plate photos), half the plates are one of them instead of a render."""
    big = (size[0] * 2, size[1] * 2)
    img = _background(bgs, big, rng)
    styles = sorted(STYLES)
    boxes: list[list[float]] = []
    placed = []
    for _ in range(int(rng.choice([1, 1, 1, 2, 3]))):
        st = styles[int(rng.integers(len(styles)))]
        if crops and rng.random() < 0.5:
            image = crops[int(rng.integers(len(crops)))]
        else:
            image = render_plate(random_plate_text(st, rng), rng, style=st, height=int(rng.integers(40, 100)),
                                 augmented=True).image
        quad = _quad(image.shape[1], image.shape[0], big, rng)
        lo, hi = quad.min(axis=0), quad.max(axis=0)
        b = [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
        if not any(_overlap(b, o) for o in boxes):
            placed.append((image, quad))
            boxes.append(b)
    for _, quad in placed:  # every car first: a later car must not cover an earlier plate
        if rng.random() < 0.4:
            draw_car(img, quad, rng)
    for plate, quad in placed:
        _paste(img, plate, quad)
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return small, np.array(boxes, np.float32).reshape(-1, 4) / 2.0


def _overlap(a: list[float], b: list[float]) -> bool:
    return not (a[0] + a[2] < b[0] or b[0] + b[2] < a[0] or a[1] + a[3] < b[1] or b[1] + b[3] < a[1])


def make_composites(
    bg_paths: list[Path], n: int, size: tuple[int, int], seed: int, crops: list[np.ndarray] | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """n composites (n, h, w, 3) uint8 and their boxes, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    bgs = [im for im in (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in bg_paths) if im is not None]
    imgs, boxes = [], []
    for _ in range(n):
        im, b = composite(bgs, size, rng, crops)
        imgs.append(im)
        boxes.append(b)
    return np.stack(imgs), boxes
