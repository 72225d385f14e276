"""How much the sequence model depends on the crop: held-out us-nyc crops re-cut, re-lit and by state.

    python -m edge_ocr.bench.seq_framing --model models/plate-seq

The held-out split of us-nyc-crops (never trained on) is read as labelled, then with wider margins
(the border replicated), with the state name and slogan cut off, narrower, inverted, blurred and
darkened; and split by the state column (NY against the rest). A model that learnt the labeller's
crop instead of the characters loses most where the framing changes.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.bench.sequence import split_of
from edge_ocr.reader.sequence import SequenceReader


def _pad(img: np.ndarray, fx: float, fy: float) -> np.ndarray:
    h, w = img.shape[:2]
    t, s = int(fy * h), int(fx * w)
    return np.asarray(cv2.copyMakeBorder(img, t, t, s, s, cv2.BORDER_REPLICATE))


def _cut(img: np.ndarray, fx: float, fy: float) -> np.ndarray:
    h, w = img.shape[:2]
    return img[int(fy * h) : h - int(fy * h), int(fx * w) : w - int(fx * w)]


VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as labelled": lambda im: im,
    "margins +10 % width, +25 % height": lambda im: _pad(im, 0.10, 0.25),
    "state name and slogan cut off (25 % of the height each side)": lambda im: _cut(im, 0.0, 0.25),
    "3 % narrower each side": lambda im: _cut(im, 0.03, 0.0),
    "inverted": lambda im: 255 - im,
    "blur sigma 1.5": lambda im: np.asarray(cv2.GaussianBlur(im, (0, 0), 1.5)),
    "0.3x darker": lambda im: (im * 0.3).astype(np.uint8),
}


def _device_read(seq: SequenceReader) -> Callable[[np.ndarray], str]:
    """The sequence model's text as the device reads it: a model framed by the characters (card
    input.framing "chars") reads the region around the contour reader's characters of the re-cut crop."""
    if seq.framing != "chars":
        return lambda im: seq.read(im).text
    from edge_ocr import Reader

    contour = Reader(region="us", reader="contour")

    def read(im: np.ndarray) -> str:
        pr = contour.read_crop(im)
        return seq.read_line(im, pr.chars if pr is not None else ()).text

    return read


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edge_ocr.bench.seq_framing")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--model", type=Path, default=Path("models/plate-seq"))
    a = p.parse_args(argv)
    seq = SequenceReader(a.model)
    folder = a.data / "plates" / "us-nyc-crops"
    with open(folder / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    items = []
    for r in rows:
        text = "".join(c for c in r["plate"].upper() if c.isalnum())
        img = cv2.imread(str(folder / "crops" / r["file"]))
        if split_of(text) == "test" and img is not None:
            items.append((img, text, r["state"]))
    read = _device_read(seq)
    res: dict[str, float] = {}
    for name, recut in VARIANTS.items():
        res[name] = float(np.mean([read(recut(im)) == t for im, t, _ in items]))
    ok = [read(im) == t for im, t, _ in items]
    for label, keep in (("NY", True), ("other states", False)):
        k = [i for i, (_, _, s) in enumerate(items) if s.startswith("NY") == keep]
        res[f"{label} (n={len(k)})"] = float(np.mean([ok[i] for i in k]))
    print(json.dumps({k: round(100 * v, 1) for k, v in res.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
