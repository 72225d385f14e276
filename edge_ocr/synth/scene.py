"""Paste plates with perspective into road scenes, with the ground truth a benchmark needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge_ocr.synth import augment
from edge_ocr.synth.plate import RenderedPlate, render_plate
from edge_ocr.synth.styles import STYLES, jitter, random_plate_text
from edge_ocr.types import Box

Point = tuple[float, float]
CAR_COLOURS = (
    (40, 40, 160),
    (150, 60, 30),
    (30, 110, 30),
    (170, 170, 170),
    (25, 25, 25),
    (0, 140, 200),
    (220, 220, 220),
)


@dataclass(frozen=True)
class ScenePlate:
    text: str
    style: str
    box: Box  # bounding box of `corners`, clipped to the image
    corners: tuple[Point, Point, Point, Point]  # tl, tr, br, bl
    char_boxes: tuple[Box, ...]  # bounding boxes of the warped character boxes


@dataclass(frozen=True)
class RenderedScene:
    image: np.ndarray  # BGR uint8
    plates: tuple[ScenePlate, ...]


def road_background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Sky, buildings and road: texture and edges so a detector has something to reject."""
    w, h = size
    img = np.empty((h, w, 3), np.uint8)
    horizon = int(h * rng.uniform(0.25, 0.45))
    img[:horizon] = jitter((200, 175, 150), rng, 30)
    img[horizon:] = jitter((95, 95, 95), rng, 20)
    for _ in range(int(rng.integers(3, 8))):  # buildings and poles
        x = int(rng.integers(0, w))
        bw, bh = int(rng.integers(20, w // 4)), int(rng.integers(30, horizon + 1))
        cv2.rectangle(img, (x, horizon - bh), (x + bw, horizon), jitter((120, 120, 130), rng, 60), -1)
    for x in range(int(rng.integers(0, 160)), w, 200):  # lane marks
        cv2.rectangle(img, (x, h - 60), (x + 90, h - 48), (225, 225, 225), -1)
    noise = rng.normal(0, 5, (h, w, 1))
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def draw_car(img: np.ndarray, quad: np.ndarray, rng: np.random.Generator) -> None:
    """A car body around a plate quad: body, rear window, lights and bumper (in place)."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    pw, ph = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    colour = jitter(CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))], rng, 15)
    bw = pw * rng.uniform(3.5, 5.0)
    top, bottom = y0 - ph * rng.uniform(2.0, 3.0), y1 + ph * rng.uniform(0.8, 1.5)
    cv2.rectangle(img, (int(cx - bw / 2), int(top)), (int(cx + bw / 2), int(bottom)), colour, -1)
    roof = top - ph * rng.uniform(1.5, 2.5)
    window = np.array(
        [[cx - bw * 0.35, top], [cx + bw * 0.35, top], [cx + bw * 0.28, roof], [cx - bw * 0.28, roof]]
    )
    cv2.fillPoly(img, [window.astype(np.int32)], jitter((60, 50, 45), rng, 15), cv2.LINE_AA)
    for side in (-1, 1):
        lx = cx + side * bw * 0.38
        cv2.ellipse(
            img, (int(lx), int(top + ph)), (int(pw * 0.3), int(ph * 0.25)), 0, 0, 360, (40, 40, 200), -1
        )
    bumper = (int(cx - bw / 2), int(y1 + ph * 0.3)), (int(cx + bw / 2), int(bottom))
    cv2.rectangle(img, bumper[0], bumper[1], jitter((45, 45, 45), rng, 10), -1)


def _target_quad(
    plate: RenderedPlate, size: tuple[int, int], rng: np.random.Generator, slot: tuple[int, int]
) -> np.ndarray:
    """Where a plate goes: 10-20 % of the frame wide, mildly rotated and skewed, inside its own
    vertical slice of the frame so that plates never overlap."""
    w, h = size
    i, n = slot
    ph, pw = plate.image.shape[:2]
    sx0, sw = w * i / n, w / n
    tw = min(w * rng.uniform(0.10, 0.20) * (1.6 if plate.style == "eu" else 1.0), 0.8 * sw)
    th = tw * ph / pw
    quad = augment.jitter_quad(tw, th, rng, rot_deg=5.0, persp=0.04)
    qx = sx0 + rng.uniform(0.1 * sw, max(0.1 * sw, 0.9 * sw - tw))
    qy = rng.uniform(0.4 * h, max(0.4 * h, 0.9 * h - th))
    return quad + np.array([qx, qy])


def _quad_box(quad: np.ndarray, size: tuple[int, int]) -> Box:
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(size[0], x1), min(size[1], y1)
    return Box(int(x0), int(y0), int(max(0, x1 - x0)), int(max(0, y1 - y0)))


def _paste(img: np.ndarray, plate: RenderedPlate, quad: np.ndarray) -> ScenePlate:
    h, w = img.shape[:2]
    ph, pw = plate.image.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64)
    m = augment.homography(src, quad)
    warped = cv2.warpPerspective(plate.image, m, (w, h), flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(np.ones((ph, pw), np.float32), m, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    img[:] = np.clip(img * (1 - alpha) + warped * alpha, 0, 255).astype(np.uint8)
    chars = []
    for b in plate.char_boxes:
        pts = np.array([[b.x, b.y], [b.x2, b.y], [b.x2, b.y2], [b.x, b.y2]], np.float64)
        chars.append(_quad_box(augment.transform_points(m, pts), (w, h)))
    corners = tuple((float(x), float(y)) for x, y in quad)
    return ScenePlate(plate.text, plate.style, _quad_box(quad, (w, h)), corners, tuple(chars))  # type: ignore[arg-type]


def render_scene(
    plates: Sequence[str | RenderedPlate],
    rng: np.random.Generator,
    size: tuple[int, int] = (1280, 720),
    background: np.ndarray | None = None,
    style: str | None = None,
    augmented: bool = True,
) -> RenderedScene:
    """A (width, height) frame with each plate on a car; strings are rendered in `style` (random if None)."""
    rendered = []
    for p in plates:
        if isinstance(p, RenderedPlate):
            rendered.append(p)
            continue
        st = style or sorted(STYLES)[int(rng.integers(len(STYLES)))]
        rendered.append(render_plate(p, rng, style=st, height=int(rng.integers(90, 140))))
    quads = [_target_quad(p, size, rng, (i, len(rendered))) for i, p in enumerate(rendered)]
    if background is None:
        img = road_background(size, rng)
        for q in quads:
            draw_car(img, q, rng)
    else:
        img = cv2.resize(background, size, interpolation=cv2.INTER_AREA)
    out = [_paste(img, p, q) for p, q in zip(rendered, quads, strict=True)]
    if augmented:
        img = augment.photometric(img, rng, float(rng.uniform(0.1, 0.4)))
    return RenderedScene(img, tuple(out))


def random_scene(
    rng: np.random.Generator, n_plates: int = 1, style: str = "us", **kw: object
) -> RenderedScene:
    texts = [random_plate_text(style, rng) for _ in range(n_plates)]
    return render_scene(texts, rng, style=style, **kw)  # type: ignore[arg-type]
