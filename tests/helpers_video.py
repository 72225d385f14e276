"""Render a test video: vehicles carrying known plates drive through 1280x720 frames.

Everything is drawn here (road, car bodies) around plates from the project's own renderer, so the
ground truth (which plate, in which frames) is known exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

W, H = 1280, 720


@dataclass(frozen=True)
class Vehicle:
    plate: str
    enter: int  # first frame index in which the vehicle is in view
    frames: int  # frames it takes to cross
    colour: tuple[int, int, int]
    y: int = 250
    direction: int = 1  # 1: left to right, -1: right to left


def default_plate_image(text: str, rng: np.random.Generator) -> np.ndarray:
    """A plate from the project's renderer (edge_ocr.synth)."""
    from edge_ocr import synth

    plate = synth.render_plate(text, rng)
    return np.ascontiguousarray(plate.image)


def background(rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    img[:200] = (200, 170, 140)  # sky
    img[200:] = (95, 95, 95)  # road
    noise = rng.normal(0, 4, (H - 200, W, 1))
    img[200:] = np.clip(img[200:] + noise, 0, 255).astype(np.uint8)
    for x in range(0, W, 160):  # lane marks
        cv2.rectangle(img, (x, 640), (x + 80, 652), (230, 230, 230), -1)
    cv2.rectangle(img, (0, 170), (W, 200), (60, 90, 60), -1)  # hedge
    return img


def draw_vehicle(frame: np.ndarray, v: Vehicle, plate: np.ndarray, t: int) -> None:
    body_w, body_h = 560, 330
    progress = t / max(1, v.frames - 1)
    x0 = int(-body_w + progress * (W + body_w)) if v.direction > 0 else int(W - progress * (W + body_w))
    y0 = v.y
    cv2.rectangle(frame, (x0, y0), (x0 + body_w, y0 + body_h), v.colour, -1)
    cv2.rectangle(frame, (x0 + 60, y0 - 90), (x0 + body_w - 60, y0), v.colour, -1)
    cv2.rectangle(frame, (x0 + 85, y0 - 75), (x0 + body_w - 85, y0 - 5), (60, 50, 40), -1)  # windscreen
    for wx in (x0 + 110, x0 + body_w - 110):
        cv2.circle(frame, (wx, y0 + body_h), 55, (20, 20, 20), -1)
    ph, pw = plate.shape[:2]
    px, py = x0 + (body_w - pw) // 2, y0 + body_h - ph - 60
    xa, xb = max(0, px), min(W, px + pw)
    if xb > xa:
        frame[py : py + ph, xa:xb] = plate[:, xa - px : xb - px]


def render_video(
    path: Path,
    vehicles: list[Vehicle],
    total_frames: int,
    fps: float = 10.0,
    seed: int = 0,
    plate_image: Callable[[str, np.random.Generator], np.ndarray] = default_plate_image,
    plate_width: int = 240,
) -> Path:
    rng = np.random.default_rng(seed)
    bg = background(rng)
    plates = {}
    for v in vehicles:
        img = plate_image(v.plate, rng)
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        scale = plate_width / img.shape[1]
        plates[v.plate] = cv2.resize(
            img, (plate_width, round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (W, H))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    for i in range(total_frames):
        frame = bg.copy()
        for v in vehicles:
            if v.enter <= i < v.enter + v.frames:
                draw_vehicle(frame, v, plates[v.plate], i - v.enter)
        writer.write(frame)
    writer.release()
    return path


def spaced(plates: list[str], cross: int = 30, gap: int = 15, start: int = 5) -> tuple[list[Vehicle], int]:
    """One vehicle after another with an empty road between them; returns (vehicles, total frames)."""
    colours = [
        (40, 40, 160),
        (150, 60, 30),
        (30, 120, 30),
        (170, 170, 170),
        (20, 20, 20),
        (0, 140, 200),
        (120, 40, 120),
        (200, 200, 60),
    ]
    vehicles = [
        Vehicle(
            p, start + k * (cross + gap), cross, colours[k % len(colours)], direction=1 if k % 2 == 0 else -1
        )
        for k, p in enumerate(plates)
    ]
    return vehicles, start + len(plates) * (cross + gap) + 5
