"""Segmentation on plates the project renders itself, where every character's ink box is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_ocr.reader.segment.contours import Blob, ContourSegmenter, merge_pieces
from edge_ocr.synth.plate import RenderedPlate, render_plate
from edge_ocr.synth.styles import random_plate_text
from edge_ocr.types import CharBox

SEG = ContourSegmenter()


def _correct(rp: RenderedPlate, pred: list[CharBox], iou: float = 0.5) -> bool:
    """Same count, same order, same rows, each box overlapping its character's ink box."""
    if len(pred) != len(rp.char_boxes):
        return False
    return all(
        p.box.iou(g) >= iou and p.row == r for p, g, r in zip(pred, rp.char_boxes, rp.rows, strict=True)
    )


@pytest.mark.parametrize(("style", "floor"), [("us", 0.9), ("br", 0.9), ("two-row", 0.8), ("eu", 0.7)])
def test_rendered_plates_are_segmented(style: str, floor: float) -> None:
    """The best hypothesis is right on most plates; the right one is among the top 4 on nearly all
    (the pipeline lets the classifier choose among those)."""
    rng = np.random.default_rng(11)
    plates = [
        render_plate(random_plate_text(style, rng), rng, style=style, augmented=True) for _ in range(30)
    ]
    hyps = [SEG.hypotheses(rp.image, 4) for rp in plates]
    best = sum(bool(h) and _correct(rp, list(h[0].boxes)) for rp, h in zip(plates, hyps, strict=True))
    anyk = sum(any(_correct(rp, list(x.boxes)) for x in h) for rp, h in zip(plates, hyps, strict=True))
    assert best / len(plates) >= floor
    assert anyk / len(plates) >= min(0.95, floor + 0.1)


def test_two_rows_are_ordered_top_row_first() -> None:
    rp = render_plate("59C\n12345", np.random.default_rng(2), style="two-row")
    pred = SEG.segment(rp.image)
    assert [b.row for b in pred] == [0, 0, 0, 1, 1, 1, 1, 1]
    assert _correct(rp, pred)


def test_uneven_lighting_and_inverted_polarity() -> None:
    rp = render_plate("ABC1234", np.random.default_rng(4), style="br", height=100)
    gray = cv2.cvtColor(rp.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    ramp = np.linspace(0.35, 1.0, gray.shape[1])[None, :]
    shaded = np.clip(gray * ramp, 0, 255).astype(np.uint8)  # a shadow across the plate
    pred = SEG.segment(shaded)
    assert _correct(rp, pred) and all(b.dark_on_light == rp.dark_on_light for b in pred)
    pred = SEG.segment(255 - shaded)
    assert _correct(rp, pred) and all(b.dark_on_light != rp.dark_on_light for b in pred)


def test_touching_characters_are_split() -> None:
    rp = render_plate("ABC1234", np.random.default_rng(5), style="br", height=100)
    img = rp.image.copy()
    # Glue "2" and "3" with an ink bridge across the gap, at mid height.
    a, b = rp.char_boxes[4], rp.char_boxes[5]
    y = a.y + a.h // 2
    ink = (
        tuple(int(v) for v in img[a.y + a.h // 2, a.x : a.x2].min(axis=0))
        if rp.dark_on_light
        else (255, 255, 255)
    )
    cv2.rectangle(img, (a.x2 - 4, y - 3), (b.x + 4, y + 3), ink, -1)
    pred = SEG.segment(img)
    assert len(pred) == 7
    assert pred[4].box.iou(a) > 0.4 and pred[5].box.iou(b) > 0.4


def test_broken_character_pieces_are_merged_but_stacked_letters_are_not() -> None:
    hm = 40.0
    top, bottom, other = Blob(10, 0, 20, 19, 100), Blob(11, 21, 19, 19, 100), Blob(40, 0, 20, 40, 300)
    merged = merge_pieces([other, bottom, top], hm)
    assert [(b.x, b.y, b.w, b.h) for b in merged] == [(10, 0, 20, 40), (40, 0, 20, 40)]
    # Two small letters one above the other with a clear gap (a state code) stay apart.
    upper, lower = Blob(10, 0, 14, 16, 80), Blob(10, 24, 14, 16, 80)
    assert len(merge_pieces([upper, lower], hm)) == 2


def test_empty_and_tiny_inputs() -> None:
    assert SEG.segment(np.zeros((0, 0), np.uint8)) == []
    assert SEG.segment(np.full((60, 200), 128, np.uint8)) == []
    assert SEG.segment(np.zeros((4, 4), np.uint8)) == []
