"""Plate swap: a photo's boxed plates covered by other real plate crops, for detector training
(convert/detector/swap.py) and for held-out photos whose plate text is known (edge_ocr.bench.swap_photos).

Each crop is scaled to cover the old box (so no old plate shows beside it), centred on it, its brightness
pulled part way to the scene's, and the new box is the crop's.
"""

from __future__ import annotations

import cv2
import numpy as np


def swap_plates(
    img: np.ndarray, boxes: np.ndarray, crops: list[np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A copy of `img` with each boxed plate covered by a random crop; the boxes (N, 4) of the crops.

    Boxes whose cover would leave the photo are kept as they were (plate and box unchanged).
    """
    out = img.copy()
    ih, iw = img.shape[:2]
    new = boxes.copy()
    for k, (x, y, w, h) in enumerate(boxes):
        crop = crops[int(rng.integers(len(crops)))]
        ch, cw = crop.shape[:2]
        s = max(w / cw, h / ch) * rng.uniform(1.0, 1.15)
        nw, nh = max(2, int(round(cw * s))), max(2, int(round(ch * s)))
        x0, y0 = int(round(x + w / 2 - nw / 2)), int(round(y + h / 2 - nh / 2))
        if x0 < 0 or y0 < 0 or x0 + nw > iw or y0 + nh > ih:
            continue
        patch = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        region = out[y0 : y0 + nh, x0 : x0 + nw].astype(np.float32)
        p = patch.astype(np.float32)
        gain = (region.mean() + 1.0) / (p.mean() + 1.0)
        p *= 1.0 + (gain - 1.0) * rng.uniform(0.0, 0.7)
        out[y0 : y0 + nh, x0 : x0 + nw] = np.clip(p, 0, 255).astype(np.uint8)
        new[k] = [x0, y0, nw, nh]
    return out, new
