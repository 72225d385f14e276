"""Scene photos with plate boxes (../shared/data/scenes) and how they split, for training and benchmarks alike.

The split is a stable hash of the file stem (not a random draw) so that every run, and every later
evaluation, holds out the same photos without storing a list; ~15 % per source is held out.
convert/detector trains on the rest; edge_ocr.bench.swap_photos reads the held-out photos.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

TRAIN_SETS = ("openimages-rf", "andrewmvd-kaggle", "india-aslan")
EVAL_ONLY_SETS = ("romania-dashcam", "bangladesh-dhaka")
HELDOUT_PCT = 15
NEG_TRAIN_HALF = 0  # negatives whose hash bucket is 0 may be used in training; bucket 1 stays held out


def bucket(name: str, mod: int = 100) -> int:
    """Stable bucket of a file stem (md5), the same on every machine and Python run."""
    return int(hashlib.md5(name.encode("utf-8")).hexdigest()[:8], 16) % mod


def is_heldout(stem: str) -> bool:
    return bucket(stem) < HELDOUT_PCT


def negative_half(name: str) -> int:
    """0: may be used for training (hard negatives/backgrounds); 1: never seen, for evaluation."""
    return bucket(name, 2)


@dataclass(frozen=True)
class Scene:
    """One photo: source set, path and plate boxes (N, 4) [x, y, w, h] in its pixels."""

    source: str
    path: Path
    boxes: np.ndarray


def read_boxes(path: Path) -> np.ndarray:
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 4:
                rows.append([float(v) for v in parts[:4]])
    return np.array(rows, np.float32).reshape(-1, 4)


def load_set(data: Path, name: str) -> list[Scene]:
    d = data / "scenes" / name
    return [
        Scene(name, p, read_boxes(d / "labels" / f"{p.stem}.txt"))
        for p in sorted((d / "images").iterdir())
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    ]


def split_scenes(data: Path) -> tuple[list[Scene], list[Scene]]:
    """(train, held-out) over the three training sets, by photo."""
    train: list[Scene] = []
    held: list[Scene] = []
    for name in TRAIN_SETS:
        for s in load_set(data, name):
            (held if is_heldout(s.path.stem) else train).append(s)
    return train, held


def negatives(data: Path, half: int) -> list[Path]:
    d = data / "negatives"
    return [p for p in sorted(d.iterdir()) if p.suffix.lower() in (".jpg", ".jpeg", ".png") and negative_half(p.name) == half]



def load_image(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"{path}: unreadable image")
    return img
