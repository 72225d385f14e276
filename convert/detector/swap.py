"""Real US plates in real scenes: a photo's boxed plates covered by real us-nyc crops (plate swap).

The training photos are mostly Indian and European plates, and the detector misses readable US plates
of 60-140 px (session 17, recall by width). The only real US plates we have are the us-nyc crops
(tight, colour, ~2:1). Pasting one over a boxed plate keeps the car, the bumper and the light of a real
photo around a real US plate: the crop is scaled to cover the old box (so no old plate shows beside it),
centred on it, its brightness pulled part way to the scene's, and the new box is the crop's. The crops
are split by plate string as the sequence reader splits them (edge_ocr.bench.sequence.split_of), so a
held-out swap set built from the test split never shares a plate with training.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.bench.sequence import split_of

NYC = Path("plates") / "us-nyc-crops"


def load_crops(data: Path, split: str, limit: int = 0) -> list[np.ndarray]:
    """Colour us-nyc crops of one split ('train' or 'test'); unreadable or tiny files are skipped."""
    folder = data / NYC
    out: list[np.ndarray] = []
    with open(folder / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            if split_of(row["plate"].strip().upper()) != split:
                continue
            img = cv2.imread(str(folder / "crops" / row["file"]), cv2.IMREAD_COLOR)
            if img is not None and min(img.shape[:2]) >= 12:
                out.append(img)
            if limit and len(out) >= limit:
                break
    return out


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
