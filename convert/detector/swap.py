"""Real US plates in real scenes: a photo's boxed plates covered by real us-nyc crops (plate swap).

The training photos are mostly Indian and European plates, and the detector misses readable US plates
of 60-140 px (session 17, recall by width). The only real US plates we have are the us-nyc crops
(tight, colour, ~2:1). Pasting one over a boxed plate keeps the car, the bumper and the light of a real
photo around a real US plate (edge_ocr.synth.swap.swap_plates). The crops
are split by plate string as the sequence reader splits them (edge_ocr.bench.sequence.split_of), so a
held-out swap set built from the test split never shares a plate with training.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_ocr.bench.sequence import us_nyc_split
from edge_ocr.synth.swap import swap_plates


def load_crops(data: Path, split: str, limit: int = 0) -> list[np.ndarray]:
    """Colour us-nyc crops of one split ('train' or 'test'); unreadable or tiny files are skipped."""
    out: list[np.ndarray] = []
    for c in us_nyc_split(data, split):
        img = cv2.imread(str(c.path), cv2.IMREAD_COLOR)
        if img is not None and min(img.shape[:2]) >= 12:
            out.append(img)
        if limit and len(out) >= limit:
            break
    return out


def write_heldout(data: Path, out: Path, seed: int = 0) -> int:
    """The held-out swap set: every held-out training photo (data.split_scenes) with its plates covered
    by us-nyc crops of the test split, written as <out>/images + <out>/labels (the scenes layout, so
    `python -m edge_ocr.bench.detector <out>` measures it). Returns the number of plates written."""
    from convert.detector import data as scenes

    _, held = scenes.split_scenes(data)
    crops = load_crops(data, "test")
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    n = 0
    for s in held:
        img = scenes.load_image(s.path)
        img, boxes = swap_plates(img, s.boxes, crops, rng) if len(s.boxes) else (img, s.boxes)
        cv2.imwrite(str(out / "images" / f"{s.path.stem}.png"), img)
        (out / "labels" / f"{s.path.stem}.txt").write_text("".join(f"{x:.1f} {y:.1f} {w:.1f} {h:.1f}\n" for x, y, w, h in boxes))
        n += len(boxes)
    return n


if __name__ == "__main__":  # python -m convert.detector.swap DATA OUT
    import sys

    print(write_heldout(Path(sys.argv[1]), Path(sys.argv[2])), "plates")
