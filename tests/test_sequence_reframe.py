"""The sequence model's reframing augmentation (convert.sequence.lines): numpy and OpenCV only, no TensorFlow."""

from __future__ import annotations

import numpy as np

from convert.sequence import lines
from edge_ocr.reader.sequence import INPUT_H, INPUT_W


def _line() -> np.ndarray:
    img = np.full((48, 120), 200, np.uint8)
    img[12:36, 10:110] = 30  # the "characters"
    return img


def test_loose_reframe_keeps_the_whole_line_inside_a_wider_surround() -> None:
    rng = np.random.default_rng(0)
    texture = np.random.default_rng(1).integers(0, 255, (48, 200)).astype(np.uint8)
    line = _line()
    for _ in range(50):
        out = lines.reframe(line, rng, tight=0.0, texture=texture)
        h, w = out.shape
        assert 48 <= h <= 48 * (1 + 2 * lines.LOOSE_H) + 1 and 120 <= w <= 120 * (1 + 2 * lines.LOOSE_W) + 1
        hits = [
            (y, x) for y in range(h - 47) for x in range(w - 119) if np.array_equal(out[y : y + 48, x : x + 120], line)
        ]
        assert hits, "the labelled crop must survive unchanged inside the new frame"


def test_tight_cut_removes_rows_only_and_at_most_the_allowed_share() -> None:
    rng = np.random.default_rng(2)
    texture = _line()
    heights = {lines.reframe(_line(), rng, tight=0.25, texture=texture).shape for _ in range(200)}
    cut = [s for s in heights if s[0] < 48]
    assert cut, "some draws must cut"
    assert all(s[1] == 120 and s[0] >= 48 * 0.5 - 1 for s in heights if s[0] < 48)


def test_augment_gives_the_model_input_for_real_and_synthetic_sources() -> None:
    rng = np.random.default_rng(3)
    for source in ("us-nyc-crops", "br-crops", "synth"):
        for reframe_p in (0.0, 1.0):
            x = lines.augment(_line(), rng, source, _line(), reframe_p)
            assert x.shape == (INPUT_H, INPUT_W) and x.dtype == np.float32
            assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_reframing_off_draws_no_random_numbers_so_earlier_runs_replay() -> None:
    a = lines.augment(_line(), np.random.default_rng(4))
    b = lines.augment(_line(), np.random.default_rng(4), "us-nyc-crops", _line(), 0.0)
    assert np.array_equal(a, b)
