"""Traffic videos with known plates: vehicles carrying synth plates drive across a road scene.

`edge-ocr bench daemon` needs a real video file whose truth is exact (which plate, which frames)
and whose load can be chosen: `in_view` vehicles are in the frame at any time (1, 4, 8: the
cost per plate), in one or two lanes, each crossing the frame in `cross_s` seconds. The plates come
from the project's renderer (plate.py), the road from scene.py; nothing here is a photo.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.errors import EdgeOcrError
from edge_ocr.synth.plate import render_plate
from edge_ocr.synth.scene import CAR_COLOURS, road_background
from edge_ocr.synth.styles import jitter

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q: US plates avoid them next to 1 and 0
DIGITS = "0123456789"


@dataclass(frozen=True)
class TrafficVehicle:
    plate: str
    enter: int  # first frame in view
    frames: int  # frames it takes to cross
    lane: int
    direction: int  # 1: left to right, -1: right to left
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class TrafficSpec:
    in_view: int = 1  # vehicles in the frame at any time (after the first ones have entered)
    seconds: float = 30.0
    fps: float = 30.0
    size: tuple[int, int] = (1280, 720)
    cross_s: float = 4.0  # seconds a vehicle takes to cross the frame
    plate_width: int = 150  # pixels at 1280 wide (glyphs about 30 px tall)
    seed: int = 0
    texture: int = 0  # signs with lettering on the scenery (text that is not a plate)


def _plate_text(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        text = "".join(rng.choice(list(LETTERS), 3)) + "".join(rng.choice(list(DIGITS), 4))
        if text not in taken:
            taken.add(text)
            return text


def _body(spec: TrafficSpec) -> tuple[int, int]:
    """Car body (width, height) in pixels: 2.2 plate widths wide."""
    return int(spec.plate_width * 2.2), int(spec.plate_width * 1.1)


def plan_traffic(spec: TrafficSpec) -> tuple[list[TrafficVehicle], int]:
    """Vehicles entering at even intervals so that `in_view` are in the frame; (vehicles, frames)."""
    if spec.in_view < 1:
        raise EdgeOcrError("in_view must be >= 1")
    rng = np.random.default_rng(spec.seed)
    total = int(round(spec.seconds * spec.fps))
    cross = max(2, int(round(spec.cross_s * spec.fps)))
    lanes = 1 if spec.in_view == 1 else 2
    per_lane = spec.in_view / lanes
    body_w = _body(spec)[0]
    if per_lane * body_w * 1.1 > spec.size[0] + body_w:
        raise EdgeOcrError(
            f"{spec.in_view} vehicles of {body_w} px do not fit the frame: smaller plate_width"
        )
    step = cross / per_lane  # frames between two entries in one lane
    taken: set[str] = set()
    vehicles = []
    for lane in range(lanes):
        start = -cross + lane * step / 2  # the road is full from the first frame
        k = 0
        while start + k * step < total:
            colour = jitter(CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))], rng, 15)
            plate = _plate_text(rng, taken)
            direction = 1 if lane % 2 == 0 else -1
            vehicles.append(TrafficVehicle(plate, int(start + k * step), cross, lane, direction, colour))
            k += 1
    return [v for v in vehicles if v.enter + v.frames > 0], total


def _lane_y(spec: TrafficSpec, lane: int, lanes: int) -> int:
    """Top of a lane's car bodies."""
    h = spec.size[1]
    return int(h * 0.45) if lanes == 1 else int(h * (0.28 + 0.36 * lane))


def _x_of(v: TrafficVehicle, t: int, width: int, body_w: int) -> int:
    progress = t / max(1, v.frames - 1)
    travel = progress * (width + body_w)
    return int(-body_w + travel) if v.direction > 0 else int(width - travel)


def _draw(
    frame: np.ndarray, v: TrafficVehicle, plate: np.ndarray, x0: int, y0: int, body: tuple[int, int]
) -> None:
    bw, bh = body
    w = frame.shape[1]
    cv2.rectangle(frame, (x0, y0), (x0 + bw, y0 + bh), v.colour, -1)
    cv2.rectangle(frame, (x0 + bw // 8, y0 - bh // 4), (x0 + bw - bw // 8, y0), v.colour, -1)
    cv2.rectangle(frame, (x0 + bw // 6, y0 - bh // 5), (x0 + bw - bw // 6, y0 - 3), (60, 50, 40), -1)
    for wx in (x0 + bw // 5, x0 + bw - bw // 5):
        cv2.circle(frame, (wx, y0 + bh), bh // 6, (20, 20, 20), -1)
    ph, pw = plate.shape[:2]
    px, py = x0 + (bw - pw) // 2, y0 + bh - ph - bh // 8
    xa, xb = max(0, px), min(w, px + pw)
    if xb > xa:
        frame[py : py + ph, xa:xb] = plate[:, xa - px : xb - px]


def add_signs(img: np.ndarray, n: int, rng: np.random.Generator) -> None:
    """`n` shop signs and road markings with lettering above and below the lanes (in place):
    texture a character-line finder proposes and reads, and a plate detector should not."""
    h, w = img.shape[:2]
    for _ in range(n):
        text = "".join(rng.choice(list(LETTERS + DIGITS + "  "), int(rng.integers(4, 12)))).strip() or "SHOP"
        scale = float(rng.uniform(0.6, 1.6))
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 2)
        x = int(rng.integers(0, max(1, w - tw - 10)))
        y = int(rng.choice([rng.integers(th + 10, int(h * 0.25)), rng.integers(int(h * 0.9), h - 5)]))
        bg = jitter((200, 200, 200), rng, 50)
        cv2.rectangle(img, (x - 5, y - th - 5), (x + tw + 5, y + 8), bg, -1)
        ink = (20, 20, 20) if sum(bg) > 380 else (235, 235, 235)
        cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_DUPLEX, scale, ink, 2, cv2.LINE_AA)


def render_traffic(path: Path, spec: TrafficSpec) -> Path:
    """Write the video (mp4v) and its truth (`<path>.truth.json`: every vehicle's plate and the
    frames it is in view); returns the truth file."""
    vehicles, total = plan_traffic(spec)
    rng = np.random.default_rng(spec.seed + 1)
    bg = road_background(spec.size, rng)
    add_signs(bg, spec.texture, rng)
    plates = {}
    for v in vehicles:
        img = render_plate(v.plate, rng, style="us").image
        scale = spec.plate_width / img.shape[1]
        size = (spec.plate_width, round(img.shape[0] * scale))
        plates[v.plate] = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    lanes = 1 if spec.in_view == 1 else 2
    body = _body(spec)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), spec.fps, spec.size)
    if not writer.isOpened():
        raise EdgeOcrError(f"{path}: cannot write a video")
    try:
        for i in range(total):
            frame = bg.copy()
            for v in vehicles:
                if v.enter <= i < v.enter + v.frames:
                    x0 = _x_of(v, i - v.enter, spec.size[0], body[0])
                    _draw(frame, v, plates[v.plate], x0, _lane_y(spec, v.lane, lanes), body)
            writer.write(frame)
    finally:
        writer.release()
    truth = {
        "schema": "edge_ocr.traffic/1",
        "spec": asdict(spec),
        "frames": total,
        "vehicles": [
            {
                **asdict(v),
                "first_frame": max(0, v.enter),
                "last_frame": min(total, v.enter + v.frames) - 1,
                "complete": v.enter >= 0 and v.enter + v.frames <= total,  # crossed the whole frame
            }
            for v in vehicles
            if v.enter < total
        ],
    }
    out = truth_path(path)
    out.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return out


def truth_path(video: Path) -> Path:
    return video.with_name(video.name + ".truth.json")
