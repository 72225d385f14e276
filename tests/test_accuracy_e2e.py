"""Regression floor of issue 2 on real photos: `Reader.read_frame` on bench/endtoend-us.

The acceptance targets of the issue are top-1 exact >= 60 % (OpenALPR 2.3 reads 50.9 % top-1 here)
and the top-1 box hits the plate on >= 90 %. Both are reached, narrowly (61.7 %, 137 of 222, and
91.0 %, 202 of 222, when they were set), and are tests; regression floors a few points lower say
how far they may slip. bench/ is only measured, never tuned on. One pass takes about two minutes
on one core.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.types import Box

TOP1_TARGET = 0.60
HIT_TARGET = 0.90
# Regression floors, a few points under what was measured when they were last set (first read exact
# 61.7 %, first read box hit 91.0 %).
TOP1_FLOOR = 0.57
HIT_FLOOR = 0.87
IOU = 0.3


@dataclass(frozen=True)
class Labelled:
    image: Path
    box: Box
    plate: str


def _labels(folder: Path) -> list[Labelled]:
    out = []
    for txt in sorted(folder.glob("*.txt")):
        name, x, y, w, h, plate = txt.read_text().split()[:6]
        out.append(Labelled(folder / name, Box(int(x), int(y), int(w), int(h)), plate.upper()))
    return out


# The default reader (the learned detector, fused reads): issue 15 asks for a first read exact >= 72 %.
# Regression floors a few points under what was measured when set (session 16, plate-seq v5: 73.9 %, 164 of
# 222, and a box hit of 91.0 %; session 15 with v1: 69.4 % and 90.5 %).
DEFAULT_TOP1_TARGET = 0.72
DEFAULT_TOP1_FLOOR = 0.70
DEFAULT_HIT_FLOOR = 0.87


def _pass(shared_data: Path, plate_model_dir: Path, **kw: str) -> list[tuple[Labelled, str | None, float]]:
    pipeline = pytest.importorskip("edge_ocr.reader.pipeline")
    folder = shared_data / "bench" / "endtoend-us"
    items = _labels(folder)
    if not items:
        pytest.skip(f"no labelled photos in {folder}")
    cv2.setNumThreads(1)
    reader = pipeline.Reader(plate_model_dir, region="us", threads=1, **kw)
    results = []
    for it in items:
        image = cv2.imread(str(it.image), cv2.IMREAD_COLOR)
        assert image is not None, it.image
        reads = reader.read_frame(image)
        top = reads[0] if reads else None
        results.append((it, top.plate if top else None, top.box.iou(it.box) if top else 0.0))
    return results


@pytest.fixture(scope="module")
def e2e_results(shared_data: Path, plate_model_dir: Path) -> list[tuple[Labelled, str | None, float]]:
    """(label, top-1 plate, IoU of the top-1 box) per photo, issue 2's reader: the line finder, contour
    reads; the pass is shared by the tests."""
    return _pass(shared_data, plate_model_dir, reader="contour", detector="lines")


@pytest.fixture(scope="module")
def default_results(shared_data: Path, plate_model_dir: Path) -> list[tuple[Labelled, str | None, float]]:
    """The same with `read`'s defaults (the learned detector when installed, fused reads)."""
    from edge_ocr.paths import default_detector_dir

    if not (default_detector_dir() / "card.json").is_file():
        pytest.skip("models/plate-detector not installed")
    return _pass(shared_data, plate_model_dir)


def _top1(
    results: list[tuple[Labelled, str | None, float]],
) -> tuple[float, list[tuple[str, str, str | None]]]:
    exact = float(np.mean([plate == it.plate for it, plate, _ in results]))
    return exact, [(it.image.name, it.plate, plate) for it, plate, _ in results if plate != it.plate]


def _hits(results: list[tuple[Labelled, str | None, float]]) -> tuple[float, list[str]]:
    hit = float(np.mean([iou >= IOU for _, _, iou in results]))
    return hit, [it.image.name for it, _, iou in results if iou < IOU]


@pytest.mark.data
def test_e2e_top1_exact_floor(e2e_results: list[tuple[Labelled, str | None, float]]) -> None:
    exact, wrong = _top1(e2e_results)
    assert exact >= TOP1_FLOOR, f"top-1 exact {exact:.3f} < {TOP1_FLOOR}; e.g. {wrong[:10]}"


@pytest.mark.data
def test_e2e_box_hits_plate_floor(e2e_results: list[tuple[Labelled, str | None, float]]) -> None:
    hit, missed = _hits(e2e_results)
    assert hit >= HIT_FLOOR, f"IoU>={IOU} hit rate {hit:.3f} < {HIT_FLOOR}; e.g. {missed[:10]}"


@pytest.mark.data
def test_e2e_top1_exact_target(e2e_results: list[tuple[Labelled, str | None, float]]) -> None:
    exact, wrong = _top1(e2e_results)
    assert exact >= TOP1_TARGET, f"top-1 exact {exact:.3f} < {TOP1_TARGET}; e.g. {wrong[:10]}"


@pytest.mark.data
def test_e2e_box_hits_plate_target(e2e_results: list[tuple[Labelled, str | None, float]]) -> None:
    hit, missed = _hits(e2e_results)
    assert hit >= HIT_TARGET, f"IoU>={IOU} hit rate {hit:.3f} < {HIT_TARGET}; e.g. {missed[:10]}"


@pytest.mark.data
def test_default_reader_floors(default_results: list[tuple[Labelled, str | None, float]]) -> None:
    exact, wrong = _top1(default_results)
    assert exact >= DEFAULT_TOP1_TARGET, f"top-1 exact {exact:.3f} < {DEFAULT_TOP1_TARGET}; e.g. {wrong[:10]}"
    assert exact >= DEFAULT_TOP1_FLOOR, f"top-1 exact {exact:.3f} < {DEFAULT_TOP1_FLOOR}; e.g. {wrong[:10]}"
    hit, missed = _hits(default_results)
    assert hit >= DEFAULT_HIT_FLOOR, f"IoU>={IOU} hit rate {hit:.3f} < {DEFAULT_HIT_FLOOR}; e.g. {missed[:10]}"
