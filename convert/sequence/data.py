"""Real plate crops with their text, as lines for the CTC reader, split by plate string.

Sources (all under DATA/plates; never bench/): us-nyc-crops and pl-crops (labels.csv), br-crops (text
in the file name), vn-char-boxes (text rebuilt from per-character YOLO boxes, rows top to bottom).
The split hashes the plate string, so a plate photographed twice never straddles train and test.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.bench.sequence import HELDOUT, split_of  # noqa: F401 - re-exported for convert.sequence
from edge_ocr.reader.sequence import ALPHABET

VN_MISALIGNED = Path(__file__).resolve().parent.parent / "vn_misaligned.txt"
LICENCES = {
    "us-nyc-crops": "snooplsm/reported-ocr, no licence stated",
    "br-crops": "openalpr/train-detector, AGPL-3.0",
    "pl-crops": "PiotrZawiej/license_plate_detector (Kaggle UE Katowice set), licence not stated",
    "vn-char-boxes": "vitocolerole/label_plate_number, no licence stated",
    "synth": "rendered by edge_ocr.synth with ../shared/fonts (OFL-1.1 / MIT / free, see fonts README)",
    "synth-us": "US-style plates rendered by convert/sequence/usplate.py with ../shared/fonts and DejaVu",
    "synth-heldout": "usplate.py renders in fonts and backgrounds training never sees (test only)",
    "scenes-pseudo": "plates boxed in ../shared/data/scenes training sets (openimages-rf CC BY 4.0 / photos CC BY 2.0,"
    " andrewmvd-kaggle CC0, india-aslan none stated), text by RapidOCR (Apache-2.0) where confirmed (extend.py)",
}


@dataclass(frozen=True)
class LineSample:
    """One plate crop (grey uint8, native size), its text, where it came from and its row layout."""

    image: np.ndarray
    text: str
    source: str
    rows: int = 1
    split_y: float = 0.5  # row boundary as a fraction of the height (two-row plates)
    path: str = ""  # the file it came from (real crops): framing.py reads it again in colour


def clean_text(s: str) -> str:
    return "".join(c for c in s.upper() if c in ALPHABET)


def _grey(path: Path) -> np.ndarray | None:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return None if img is None or min(img.shape[:2]) < 8 else img


def _from_csv(
    folder: Path, source: str, keep: Callable[[dict[str, str], str], bool] | None = None
) -> list[LineSample]:
    """labels.csv (`file,plate,...`) + crops/; `keep(row, text)` may reject rows before their image is read."""
    out = []
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = clean_text(row["plate"])
            if keep is not None and not keep(row, text):
                continue
            img = _grey(folder / "crops" / row["file"])
            if img is not None and 3 <= len(text) <= 10:
                out.append(LineSample(img, text, source, path=str(folder / "crops" / row["file"])))
    return out


def load_br(folder: Path) -> list[LineSample]:
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in (".jpg", ".png", ".jpeg"):
            continue
        img = _grey(p)
        text = clean_text(p.stem.split("_")[0])
        if img is not None and 3 <= len(text) <= 10:
            out.append(LineSample(img, text, "br-crops", path=str(p)))
    return out


def vn_rows(boxes: np.ndarray) -> tuple[str, int, float]:
    """YOLO rows (cls, cx, cy, w, h) -> (text, number of rows, row boundary as a height fraction).

    Two rows when the centres split into two bands: the largest vertical gap between sorted centres
    exceeds half the median box height. '-' (36) and '.' (37) are dropped.
    """
    chars = boxes[boxes[:, 0] < 36]
    if len(chars) == 0:
        return "", 1, 0.5
    order = np.argsort(chars[:, 2])
    cy = chars[order, 2]
    gaps = np.diff(cy)
    med_h = float(np.median(chars[:, 4]))
    if len(gaps) and gaps.max() > 0.5 * med_h:
        k = int(gaps.argmax())
        top, bottom = chars[order[: k + 1]], chars[order[k + 1 :]]
        split = float((top[:, 2] + top[:, 4] / 2).max() + (bottom[:, 2] - bottom[:, 4] / 2).min()) / 2
        rows = [top, bottom]
    else:
        rows, split = [chars], 0.5
    text = "".join(ALPHABET[int(c)] for r in rows for c in r[np.argsort(r[:, 1]), 0])
    return text, len(rows), split


def load_vn(folder: Path) -> list[LineSample]:
    bad = set()
    if VN_MISALIGNED.exists():
        bad = {s.strip() for s in VN_MISALIGNED.read_text().splitlines() if s.strip() and s[0] != "#"}
    out = []
    for p in sorted((folder / "images").iterdir()):
        lab = folder / "labels" / (p.stem + ".txt")
        if p.stem in bad or not lab.exists():
            continue
        boxes = np.loadtxt(lab, ndmin=2)
        if boxes.size == 0:
            continue
        text, rows, split = vn_rows(boxes)
        img = _grey(p)
        # VN/CZ/HR plates carry 7-9 characters: shorter texts are boxes left out by the labeller.
        if img is not None and 6 <= len(text) <= 10:
            out.append(LineSample(img, text, "vn-char-boxes", rows, split, str(p)))
    return out


def load_real(data: Path, limit: int = 0) -> list[LineSample]:
    """Every real source under data/plates (limit > 0 keeps the first `limit` per source, for --quick)."""
    plates = data / "plates"
    parts = [
        _from_csv(plates / "us-nyc-crops", "us-nyc-crops"),
        load_br(plates / "br-crops"),
        _from_csv(plates / "pl-crops", "pl-crops"),
        load_vn(plates / "vn-char-boxes"),
    ]
    return [s for p in parts for s in (p[:limit] if limit else p)]
