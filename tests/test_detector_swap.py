"""Plate swap for detector training (convert/detector/swap.py): a real crop covers the boxed plate, the
new box is the crop's, and the us-nyc crops split by plate as the sequence reader splits them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convert.detector.composite import composite
from convert.detector.swap import load_crops
from edge_ocr.synth.swap import swap_plates


def _scene() -> tuple[np.ndarray, np.ndarray]:
    img = np.full((300, 400, 3), 90, np.uint8)
    img[140:160, 150:250] = 255  # a white 100x20 "plate" (5:1, European-like)
    return img, np.array([[150, 140, 100, 20]], np.float32)


def test_a_swapped_crop_covers_the_old_plate_and_keeps_its_own_shape() -> None:
    img, boxes = _scene()
    crop = np.zeros((50, 100, 3), np.uint8)  # a black 2:1 "US plate"
    crop[10:40, 10:90] = 40
    out, new = swap_plates(img, boxes, [crop], np.random.default_rng(0))
    x, y, w, h = new[0]
    assert x <= 150 and y <= 140 and x + w >= 250 and y + h >= 160  # covers the old box
    assert abs(w / h - 2.0) < 0.1  # the crop's aspect, not the old plate's
    assert abs((x + w / 2) - 200) <= 1 and abs((y + h / 2) - 150) <= 1  # centred where the old plate was
    assert out[140:160, 150:250].max() < 255  # no white of the old plate is left
    assert (out[:100] == 90).all()  # the rest of the photo untouched
    assert (img[140:160, 150:250] == 255).all()  # the input is not modified


def test_a_cover_that_would_leave_the_photo_keeps_the_plate_and_its_box() -> None:
    img, _ = _scene()
    boxes = np.array([[0, 290, 100, 10]], np.float32)  # a 2:1 cover 50 px high cannot fit below y=290
    out, new = swap_plates(img, boxes, [np.zeros((50, 100, 3), np.uint8)], np.random.default_rng(0))
    assert (new == boxes).all() and (out == img).all()


def test_composites_with_crops_contain_them() -> None:
    crop = np.zeros((60, 120, 3), np.uint8)
    crop[:, :, 2] = 250  # pure red: no render or background draws it
    rng = np.random.default_rng(3)
    found = 0
    for _ in range(10):
        img, boxes = composite([], (256, 144), rng, [crop])
        assert len(boxes) >= 1
        red = (img[..., 2] > 200) & (img[..., 1] < 40) & (img[..., 0] < 40)
        found += int(red.sum() > 20)
    assert 0 < found <= 10


def test_us_nyc_crops_load_in_colour_and_hold_out_about_an_eighth(shared_data: Path) -> None:
    train, test = load_crops(shared_data, "train"), load_crops(shared_data, "test")
    assert all(c.ndim == 3 and c.shape[2] == 3 for c in train + test)
    assert 0.08 < len(test) / (len(train) + len(test)) < 0.16  # HELDOUT = 0.12 of plate strings


def test_swap_photos_are_held_out_photos_carrying_held_out_plate_text(shared_data: Path) -> None:
    from edge_ocr.bench import swap_photos
    from edge_ocr.bench.scene_split import split_scenes
    from edge_ocr.bench.sequence import us_nyc_heldout

    crops = us_nyc_heldout(shared_data)[:30]
    photos = swap_photos.photo_set(shared_data, crops, seeds=1)
    _, held = split_scenes(shared_data)
    one_plate = [s for s in held if len(s.boxes) == 1]
    assert 0 < len(photos) < len(one_plate)  # plates under MIN_WIDTH after the swap are left out
    assert {t for _, t in photos} <= {c.text for c in crops}
    assert all(p.ndim == 3 and p.shape[2] == 3 for p, _ in photos)
