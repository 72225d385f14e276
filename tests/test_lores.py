"""Detection on a camera's low-resolution view, characters from the full-resolution frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_ocr.reader.pipeline import Reader
from edge_ocr.synth import render_plate, render_scene


def test_plate_found_on_the_small_view_is_boxed_and_read_in_full_resolution(plate_model_dir: Path) -> None:
    rng = np.random.default_rng(5)
    plate = render_plate("KTR4829", rng, style="us", height=150)
    scene = render_scene([plate], rng, size=(1280, 720))
    truth = scene.plates[0]
    small = cv2.resize(
        cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY), (640, 360), interpolation=cv2.INTER_AREA
    )
    reader = Reader(plate_model_dir, region="us")
    reads = reader.read_frame(scene.image, small)
    assert reads, "no plate read"
    best = max(reads, key=lambda r: r.box.iou(truth.box))
    assert best.box.iou(truth.box) >= 0.3  # the box is in full-resolution pixels
    assert best.plate == "KTR4829"
    assert all(c.box.h >= 20 for c in best.chars)  # glyphs measured on the full frame, not the small one
