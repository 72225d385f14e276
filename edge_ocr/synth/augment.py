"""Image degradations shared by the character, plate and scene renderers.

Real plates reach the reader blurred, noisy, unevenly lit, JPEG-compressed and seen at an angle;
training on clean renders alone would teach the model a world it never meets.
"""

from __future__ import annotations

import cv2
import numpy as np


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    return cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))


def jitter_quad(w: float, h: float, rng: np.random.Generator, rot_deg: float, persp: float) -> np.ndarray:
    """Corners (tl, tr, br, bl) of a w x h rectangle rotated about its centre and randomly skewed."""
    quad = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    quad += rng.uniform(-persp, persp, (4, 2)) * np.array([w, h])
    centre = quad.mean(axis=0)
    a = np.deg2rad(rng.uniform(-rot_deg, rot_deg))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (quad - centre) @ rot.T + centre


def transform_points(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), m).reshape(-1, 2)


def lighting(img: np.ndarray, rng: np.random.Generator, low: float = 0.6, high: float = 1.1) -> np.ndarray:
    """Multiply by a linear brightness ramp in a random direction (sun, shadow, headlights)."""
    h, w = img.shape[:2]
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (np.cos(a) * xx / max(1, w) + np.sin(a) * yy / max(1, h)).astype(np.float32)
    ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
    lo = rng.uniform(low, 1.0)
    hi = rng.uniform(max(lo, 0.9), high)
    gain = lo + (hi - lo) * ramp
    if img.ndim == 3:
        gain = gain[..., None]
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def blur(img: np.ndarray, rng: np.random.Generator, max_sigma: float = 1.2) -> np.ndarray:
    """Gaussian (focus) or short linear (motion) blur."""
    if rng.random() < 0.3:
        k = int(rng.integers(3, 6))
        line = np.zeros((k, k), np.float32)
        line[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = np.asarray(cv2.warpAffine(line, rot, (k, k)), np.float32)
        kernel /= max(1e-6, float(kernel.sum()))
        return cv2.filter2D(img, -1, kernel)
    sigma = float(rng.uniform(0.0, max_sigma))
    if sigma < 0.2:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigma)


def noise(img: np.ndarray, rng: np.random.Generator, max_sigma: float = 8.0) -> np.ndarray:
    sigma = rng.uniform(0.0, max_sigma)
    out = img.astype(np.float32) + rng.normal(0.0, sigma, img.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, rng: np.random.Generator, low: int = 35, high: int = 95) -> np.ndarray:
    """Round-trip through JPEG for block and ringing artefacts."""
    quality = int(rng.integers(low, high + 1))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return img
    flag = cv2.IMREAD_GRAYSCALE if img.ndim == 2 else cv2.IMREAD_COLOR
    out = cv2.imdecode(buf, flag)
    return img if out is None else np.asarray(out)


def photometric(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """The usual chain: lighting, blur, noise, JPEG, each scaled by `strength` (0 = clean)."""
    if strength <= 0:
        return img
    out = lighting(img, rng, low=1.0 - 0.4 * strength, high=1.0 + 0.1 * strength)
    out = blur(out, rng, max_sigma=1.2 * strength)
    out = noise(out, rng, max_sigma=8.0 * strength)
    return jpeg(out, rng, low=int(95 - 60 * strength), high=95)
