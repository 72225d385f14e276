"""Mosaic views for detector training (convert/detector/train.py, Stream.mosaic): four half-size views in a
2x2 grid, each plate's box moved into its quarter and still on the plate's pixels."""

from __future__ import annotations

import cv2
import numpy as np

from convert.detector.train import Stream, TrainConfig


def _photo(k: int) -> tuple[np.ndarray, np.ndarray]:
    img = np.full((240, 400, 3), 60 + 10 * k, np.uint8)
    img[100:130, 150:250] = (0, 0, 250)  # one pure red 100x30 "plate"; nothing else is red
    return img, np.array([[150, 100, 100, 30]], np.float32)


def _stream(p_mosaic: float) -> Stream:
    cfg = TrainConfig(p_real=1.0, p_synth=0.0, p_mosaic=p_mosaic, composites=0, seed=5)
    s = Stream.__new__(Stream)  # no data folder: the photos are made here
    s.cfg, s.full, s.rng = cfg, False, np.random.default_rng(cfg.seed)
    s.real, s.negs, s.crops = [_photo(k) for k in range(3)], [], []
    s.synth_imgs, s.synth_boxes = [], []
    return s


def test_mosaic_boxes_stay_in_their_quarter_and_on_the_plate() -> None:
    s = _stream(1.0)
    w, h = s.cfg.size
    for _ in range(10):
        view, boxes = s.mosaic()
        assert view.shape == (h, w, 3) and view.dtype == np.uint8
        red = (view[..., 2] > 200) & (view[..., 1] < 30) & (view[..., 0] < 30)
        covered = np.zeros_like(red)
        for x, y, bw, bh in boxes:
            qx, qy = int(x // (w // 2)), int(y // (h // 2))  # the quarter the box starts in
            assert x + bw <= (qx + 1) * (w // 2) + 1e-3 and y + bh <= (qy + 1) * (h // 2) + 1e-3
            x0, y0, x1, y1 = int(np.floor(x)), int(np.floor(y)), int(np.ceil(x + bw)), int(np.ceil(y + bh))
            inner = red[y0:y1, x0:x1]
            assert inner.mean() > 0.5  # the box lies on the red plate it was moved with
            covered[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1] = True
        n, _, stats, _ = cv2.connectedComponentsWithStats((red & ~covered).astype(np.uint8))
        for x, y, bw, bh, _area in stats[1:n]:  # a plate without a box must be one cut by its view's edge
            qx, qy = x // (w // 2), y // (h // 2)
            assert x == qx * (w // 2) or y == qy * (h // 2) or x + bw == (qx + 1) * (w // 2) or y + bh == (qy + 1) * (h // 2)
        assert 1 <= len(boxes) <= 4


def test_no_mosaic_keeps_whole_views() -> None:
    s = _stream(0.0)
    view, boxes = s.sample()
    assert view.shape == (s.cfg.height, s.cfg.width, 3) and len(boxes) <= 1
