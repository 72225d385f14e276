"""Plate-level ground truth of the benchmark and training folders: crops with their text, and full
photos with the plate's box and text. Character-level loaders are in datasets.py."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from edge_ocr.bench.datasets import require_dir, sorted_files
from edge_ocr.errors import SourceError
from edge_ocr.types import Box


@dataclass(frozen=True)
class PlateSample:
    """One plate-level ground truth: an image file, its text and (for full photos) the plate box."""

    path: Path
    plate: str
    source: str
    group: str
    box: Box | None = None



def load_seg_and_ocr(folder: Path) -> list[PlateSample]:
    """Plate crops with `groundtruth.csv` rows `file,state,PLATE`."""
    gt = folder / "groundtruth.csv"
    if not gt.exists():
        raise SourceError(f"ground truth not found: {gt}")
    with gt.open(newline="") as fh:
        rows = [r for r in csv.reader(fh) if len(r) >= 3 and r[0] != "file"]
    return [PlateSample(folder / f, plate.strip().upper(), folder.name, plate) for f, _s, plate in rows]


def load_name_crops(folder: Path) -> list[PlateSample]:
    """Plate crops named `PLATE_n.jpg` (plates/br-crops); several files per plate share a group."""
    require_dir(folder)
    files = sorted_files(folder, ["*.jpg", "*.png", "*.jpeg"])
    return [
        PlateSample(f, f.stem.rsplit("_", 1)[0].upper(), folder.name, f.stem.rsplit("_", 1)[0]) for f in files
    ]


def load_endtoend(folder: Path) -> list[PlateSample]:
    """Full photos `NAME.jpg` + `NAME.txt` with `file x y w h PLATE` (tab or space separated)."""
    out = []
    for txt in sorted_files(require_dir(folder), ["*.txt"]):
        for line in txt.read_text().splitlines():
            parts = line.split()
            if len(parts) < 6:
                continue
            x, y, w, h = (int(float(v)) for v in parts[1:5])
            img = folder / parts[0]
            out.append(PlateSample(img, parts[5].upper(), folder.name, txt.stem, Box(x, y, w, h)))
    return out
