"""Held-out real photos with known plate text: the held-out scene photos with their plate covered by a
held-out plate crop (edge_ocr.synth.swap).

The scenes' photos carry plate boxes but no text, and the crops carry text but no scene. fusion_photos'
composites paste a crop onto a plate-free frame with no car around it, which a detector trained on real
photos often does not call a plate (session 17: 122 of 430 missed). Here the crop covers a real boxed
plate of a held-out photo of the detector's training sources (edge_ocr.bench.scene_split: never trained
on), so car, bumper, light and plate size stay real. Only one-plate photos are used (the first read is
then well defined) and only plates at least MIN_WIDTH px wide after the swap: the session 17 width
figures show smaller plates cannot be read by anyone here. The crops are the plate-seq test split
(never trained on by the sequence reader, nor by a detector trained with convert/detector/swap.py).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_ocr.bench.scene_split import load_image, split_scenes
from edge_ocr.bench.sequence import Crop, us_nyc_heldout
from edge_ocr.synth.swap import swap_plates

MIN_WIDTH = 60


def photo_set(data: Path, crops: list[Crop] | None = None, seeds: int = 2) -> list[tuple[np.ndarray, str]]:
    """(photo, text) pairs: every held-out one-plate photo once per seed, each time with another crop."""
    pool = [(img, c.text) for c in (us_nyc_heldout(data) if crops is None else crops)
            if (img := cv2.imread(str(c.path), cv2.IMREAD_COLOR)) is not None]
    _, held = split_scenes(data)
    out = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        for s in held:
            if len(s.boxes) != 1:
                continue
            photo, boxes = load_image(s.path), s.boxes
            crop, text = pool[int(rng.integers(len(pool)))]
            swapped, new = swap_plates(photo, boxes, [crop], rng)
            if (new != boxes).any() and new[0, 2] >= MIN_WIDTH:
                out.append((swapped, text))
    return out
