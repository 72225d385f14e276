"""Regression floor: `edge-ocr read --crop` on the US plate crops of the OpenALPR benchmark.

bench/ is evaluation data only: nothing in the reader was trained or tuned on it. OpenALPR 2.3
reads 75.9 % of these crops exactly; the project's target is 85 %.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from edge_ocr.imageio import load_image
from edge_ocr.pipeline import Reader

FLOOR = 0.85


@pytest.mark.data
def test_us_crops_exact_plate_accuracy(shared_data: Path, plate_model_dir: Path) -> None:
    folder = shared_data / "bench" / "seg-and-ocr-us"
    if not (folder / "groundtruth.csv").exists():
        pytest.skip(f"{folder} not present")
    with (folder / "groundtruth.csv").open(newline="") as fh:
        rows = [r for r in csv.reader(fh) if len(r) >= 3 and r[0] != "file"]
    reader = Reader(plate_model_dir, region="us")
    exact = 0
    for name, _state, plate in rows:
        read = reader.read_crop(load_image(folder / name))
        exact += read is not None and read.plate == plate.strip().upper()
    accuracy = exact / len(rows)
    assert len(rows) >= 300
    assert accuracy >= FLOOR, f"{accuracy:.1%} exact on {len(rows)} crops (floor {FLOOR:.0%})"
