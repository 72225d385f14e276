"""A plate region cut two ways (PlateRegion.alternate): which read is kept, and that the contour reader reads
the second cut only when the first read fits no region pattern, the fused reader only when the first read
is not sure (second_cut "unsure", the default since session 20) or always (fusion.choose_cut)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.reader.detect.geometry import rectify
from edge_ocr.reader.pipeline import Reader
from edge_ocr.reader.rank import better_of
from edge_ocr.reader.view import upscale
from edge_ocr.synth.scene import render_scene
from edge_ocr.types import Box, PlateRead, PlateRegion


def _read(plate: str, conf: float, pattern: bool) -> PlateRead:
    corners = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
    return PlateRead(plate, conf, "br", pattern, Box(0, 0, 10, 5), corners, (), ())


def test_better_of_prefers_the_pattern_then_the_length_then_the_confidence() -> None:
    row, box = _read("BC1234", 0.9, False), _read("ABC1234", 0.5, True)
    assert better_of(row, box) is box  # the pattern first, though less sure
    longer = _read("ABC1234", 0.4, True)
    assert better_of(_read("ABC123", 0.9, True), longer) is longer  # then the length
    a, b = _read("ABC1234", 0.6, True), _read("ABC1284", 0.7, True)
    assert better_of(a, b) is b and better_of(a, _read("ABC1284", 0.6, True)) is a  # then confidence; tie: first
    assert better_of(None, a) is a and better_of(a, None) is a and better_of(None, None) is None


class _TwoCuts:
    """A detector that boxes the rendered plate with its first character cut off, the whole plate as
    the alternate cut; counts the reads of each."""

    def __init__(self, gray_shape: tuple[int, int], corners: tuple, cut: float) -> None:
        self.corners, self.cut = corners, cut

    def detect(self, gray: np.ndarray) -> list[PlateRegion]:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.corners
        c = self.cut
        cut = ((x0 + c * (x1 - x0), y0 + c * (y1 - y0)), (x1, y1), (x2, y2), (x3 + c * (x2 - x3), y3 + c * (y2 - y3)))
        whole = self._region(gray, self.corners, None)
        return [self._region(gray, cut, whole)]

    @staticmethod
    def _region(gray: np.ndarray, corners: tuple, alt: PlateRegion | None) -> PlateRegion:
        crop, _ = rectify(gray, corners)
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        box = Box(int(min(xs)), int(min(ys)), int(max(xs) - min(xs)), int(max(ys) - min(ys)))
        return PlateRegion(box, corners, crop, 0.9, (), alt)


def _reader(plate_model_dir: Path, detector: object, reader_name: str = "contour", second_cut: str = "unsure") -> Reader:
    reader = Reader(plate_model_dir, region="br", reader=reader_name, detector="lines", second_cut=second_cut)
    reader._detector = detector  # type: ignore[assignment]
    return reader


def test_the_reader_keeps_the_whole_cut_when_the_row_lost_characters(plate_model_dir: Path) -> None:
    scene = render_scene(["ABC1234"], np.random.default_rng(3), style="br")
    two = _TwoCuts(scene.image.shape[:2], scene.plates[0].corners, 0.35)
    one = type("OneCut", (), {"detect": lambda self, g: [replace(r, alternate=None) for r in two.detect(g)]})()
    alone = _reader(plate_model_dir, one).read_frame(scene.image)
    assert alone and alone[0].plate == "BC1234"  # the cut itself reads short: no pattern fits
    reads = _reader(plate_model_dir, two).read_frame(scene.image)
    assert reads and reads[0].plate == "ABC1234" and reads[0].matches_pattern


@pytest.mark.parametrize(
    ("reader_name", "second_cut", "reads_of_the_plate"),
    [("contour", "unsure", 1), ("fused", "unsure", 1), ("fused", "always", 2)],
)
def test_the_second_cut_is_read_only_when_the_first_read_is_unsure_unless_always(
    plate_model_dir: Path, monkeypatch: pytest.MonkeyPatch, reader_name: str, second_cut: str, reads_of_the_plate: int
) -> None:
    scene = render_scene(["ABC1234"], np.random.default_rng(3), style="br")
    whole = _TwoCuts(scene.image.shape[:2], scene.plates[0].corners, 0.0)  # both cuts the whole plate
    reader = _reader(plate_model_dir, whole, reader_name, second_cut=second_cut)
    calls: list[int] = []
    real = reader._read_scored

    def counted(*a: object, **k: object) -> object:
        calls.append(1)
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "_read_scored", counted)
    reads = reader.read_frame(scene.image)
    assert reads and reads[0].plate == "ABC1234" and len(calls) == reads_of_the_plate


def test_upscale_carries_the_alternate_cut() -> None:
    gray = np.zeros((40, 80), np.uint8)
    corners = ((2.0, 2.0), (30.0, 2.0), (30.0, 12.0), (2.0, 12.0))
    crop, _ = rectify(gray, corners)
    alt = PlateRegion(Box(2, 2, 28, 10), corners, crop)
    big = upscale(PlateRegion(Box(2, 2, 28, 10), corners, crop, 0.5, (), alt), np.zeros((80, 160), np.uint8), (40, 80))
    assert big.alternate is not None and big.alternate.corners[1] == (60.0, 4.0)
