from __future__ import annotations

import cv2
import numpy as np

from edge_ocr.preprocess import PreprocessSpec, batch_inputs, char_input, guess_dark_on_light


def _glyph(dark_on_light: bool, h: int = 45, w: int = 22) -> np.ndarray:
    bg, fg = (220, 30) if dark_on_light else (30, 220)
    img = np.full((h, w), bg, np.uint8)
    cv2.rectangle(img, (6, 5), (15, 39), fg, -1)  # a thick vertical bar, like a '1' or 'I'
    return img


def test_polarity_is_normalised_to_bright_on_dark() -> None:
    a = char_input(_glyph(True))
    b = char_input(_glyph(False))
    assert a.shape == (32, 32) and a.dtype == np.float32
    assert a.max() <= 1.0 and a.min() >= 0.0
    assert np.abs(a - b).mean() < 0.02
    assert a[16, 16] > 0.9 and a[0, 0] == 0.0


def test_guess_polarity() -> None:
    assert guess_dark_on_light(_glyph(True))
    assert not guess_dark_on_light(_glyph(False))


def test_tighten_removes_margin_and_keeps_aspect() -> None:
    small = _glyph(True)
    padded = cv2.copyMakeBorder(small, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=220)
    a, b = char_input(small), char_input(padded)
    assert np.abs(a - b).mean() < 0.03
    cols = np.where(a.max(axis=0) > 0.5)[0]
    rows = np.where(a.max(axis=1) > 0.5)[0]
    assert rows.max() - rows.min() + 1 >= 26  # the tall side fills size - 2*margin
    assert cols.max() - cols.min() + 1 < 14  # aspect kept: the bar stays narrow


def test_flat_and_empty_crops_do_not_crash() -> None:
    spec = PreprocessSpec()
    assert char_input(np.full((20, 10), 128, np.uint8), spec).max() == 0.0
    assert char_input(np.zeros((0, 5), np.uint8), spec).shape == (32, 32)
    assert batch_inputs([], spec).shape == (0, 32, 32, 1)
    assert batch_inputs([_glyph(True)] * 3, spec).shape == (3, 32, 32, 1)


def test_spec_round_trips_through_json() -> None:
    spec = PreprocessSpec(size=28, margin=1)
    assert PreprocessSpec.from_json(spec.to_json()) == spec
