"""Augmentation of preprocessed character inputs (float (N, S, S, 1), bright ink on dark).

Works after `char_input`, i.e. on exactly what the model sees, so every distortion stays in the
input distribution the device produces: small shifts/rotations/scales left by an imperfect ink box,
blur of small or defocused plates, sensor noise, weak contrast, and stroke weight (embossed and
bold US fonts versus thin European ones) via erosion/dilation.
"""

from __future__ import annotations

import cv2
import numpy as np

_KERNEL = np.ones((2, 2), np.uint8)


def _affine(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    s = img.shape[0]
    angle = rng.uniform(-8, 8)
    scale = rng.uniform(0.82, 1.08)
    m = np.asarray(cv2.getRotationMatrix2D((s / 2, s / 2), angle, scale), np.float64)
    m[0, 1] += rng.uniform(-0.15, 0.15)  # shear: italic-ish and perspective-ish slant
    m[:, 2] += rng.uniform(-2.0, 2.0, size=2)
    sx = rng.uniform(0.8, 1.15)  # condensed / wide typefaces
    m[0, :] *= sx
    m[0, 2] += (1 - sx) * s / 2
    return cv2.warpAffine(img, m, (s, s), flags=cv2.INTER_LINEAR, borderValue=0.0)


def _thickness(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r = rng.random()
    if r < 0.2:
        return cv2.erode(img, _KERNEL)
    if r < 0.4:
        return cv2.dilate(img, _KERNEL)
    return img


def _photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 1.1))
    if rng.random() < 0.4:
        lo, hi = rng.uniform(0.0, 0.3), rng.uniform(0.65, 1.0)
        img = lo + img * (hi - lo)
    if rng.random() < 0.4:
        img = img + rng.normal(0.0, rng.uniform(0.02, 0.08), img.shape).astype(np.float32)
    return img


def augment_one(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random distortion of a (S, S) float image; returns float32 clipped to [0, 1]."""
    if rng.random() < 0.85:
        img = _affine(img, rng)
    img = _thickness(img, rng)
    img = _photometric(img, rng)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def augment_batch(x: np.ndarray, rng: np.random.Generator, p: float = 0.8) -> np.ndarray:
    """Augment a fraction p of an (N, S, S, 1) batch; the rest passes unchanged (clean views matter too)."""
    out = x.copy()
    for i in np.flatnonzero(rng.random(len(x)) < p):
        out[i, ..., 0] = augment_one(x[i, ..., 0], rng)
    return out
