"""preprocess.percentiles: np.percentile's values, bit for bit, without its wrappers. Training (convert/) and
the device share char_input, so a last-bit difference would be a train/device mismatch."""

from __future__ import annotations

import numpy as np

from edge_ocr.preprocess import PreprocessSpec, char_input, percentiles


def test_percentiles_equal_numpy_bit_for_bit() -> None:
    rng = np.random.default_rng(5)
    for i in range(3000):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        kind = i % 4
        if kind == 0:
            a = rng.integers(0, 256, (h, w)).astype(np.float32)
        elif kind == 1:
            a = 255.0 - rng.integers(0, 256, (h, w)).astype(np.float32)  # char_input's inverted grey
        elif kind == 2:
            a = (rng.random((h, w)) * 255).astype(np.float32)
        else:
            a = np.full((h, w), float(rng.integers(0, 256)), np.float32)  # flat: both ends equal
        q = (2.0, 98.0) if i % 3 else tuple(float(v) for v in np.sort(rng.random(2) * 100))
        want = np.percentile(a, list(q))
        got = percentiles(a, *q)
        assert got.dtype == want.dtype and np.array_equal(got, want), (a.shape, q, got, want)


def test_percentiles_at_the_ends_and_a_known_case() -> None:
    a = np.arange(10, dtype=np.float32)
    assert np.array_equal(percentiles(a, 2.0, 98.0), np.array([0.18, 8.82]))
    assert np.array_equal(percentiles(a, 0.0, 100.0), np.array([0.0, 9.0]))
    assert np.array_equal(percentiles(np.array([[7]], np.float32), 2.0, 98.0), np.array([7.0, 7.0]))


def test_char_input_unchanged_on_real_looking_crops() -> None:
    """char_input through the fast path equals the same steps with np.percentile."""
    rng = np.random.default_rng(9)
    spec = PreprocessSpec()
    for _ in range(200):
        h, w = int(rng.integers(8, 80)), int(rng.integers(4, 60))
        crop = np.clip(rng.normal(180, 30, (h, w)), 0, 255).astype(np.uint8)
        crop[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = rng.integers(0, 60)  # a dark stroke
        gray = 255.0 - crop.astype(np.float32)
        lo, hi = np.percentile(gray, [spec.low_pct, spec.high_pct])
        assert np.array_equal(percentiles(gray, spec.low_pct, spec.high_pct), np.array([lo, hi]))
        assert char_input(crop, spec, True).shape == (spec.size, spec.size)
