"""Gap filling only where the line is unsure (FillParams.fill_when "unsure", session 21): a fused reader does
not search a line again for missing characters when its first plate fits a region pattern and the sequence
model's own best path is that plate; the sequence read made for that check is the one fusion uses."""

from __future__ import annotations

import numpy as np
import pytest

from edge_ocr.errors import ConfigError
from edge_ocr.paths import default_model_dir
from edge_ocr.reader.fusion import FusionParams, make_stage
from edge_ocr.reader.line import LineRead, LineReader
from edge_ocr.reader.pipeline import Reader
from edge_ocr.synth.plate import render_plate
from edge_ocr.types import Box, CharPrediction, PlateCandidate

SEQ = default_model_dir("plate-seq")
needs_seq = pytest.mark.skipif(not (SEQ / "card.json").exists(), reason="models/plate-seq not built")


def _fills(reader: Reader, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = LineReader._fill_gaps

    def counted(self: LineReader, *a: object, **k: object) -> LineRead:
        calls.append(1)
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(LineReader, "_fill_gaps", counted)
    return calls


@needs_seq
@pytest.mark.parametrize(("reader_name", "fill_when", "fills"), [
    ("fused", "unsure", 0), ("fused", "always", 1), ("contour", "unsure", 1),
])
def test_a_settled_line_is_not_gap_filled_unless_always(
    monkeypatch: pytest.MonkeyPatch, reader_name: str, fill_when: str, fills: int
) -> None:
    plate = render_plate("KTR4829", np.random.default_rng(0), "us", height=120).image
    reader = Reader(region="us", reader=reader_name, fill_when=fill_when)
    calls = _fills(reader, monkeypatch)
    read = reader.read_crop(plate)
    assert read is not None and read.plate == "KTR4829" and read.matches_pattern
    assert len(calls) == fills


@needs_seq
def test_a_line_the_sequence_model_reads_otherwise_is_gap_filled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same plate, but the line as chosen is told to be one the sequence model reads otherwise."""
    plate = render_plate("KTR4829", np.random.default_rng(0), "us", height=120).image
    reader = Reader(region="us", reader="fused")
    assert reader.sequence is not None
    monkeypatch.setattr(type(reader.sequence), "settles", lambda self, crop, line: False)
    calls = _fills(reader, monkeypatch)
    assert reader.read_crop(plate) is not None and len(calls) == 1


@needs_seq
def test_settles_needs_the_pattern_and_the_models_own_reading_and_reads_once() -> None:
    plate = render_plate("KTR4829", np.random.default_rng(0), "us", height=120).image
    stage = make_stage(SEQ, "tflite", "int8", 1, FusionParams(reader="fused"))
    assert stage is not None
    read = Reader(region="us", reader="contour").read_crop(plate)
    assert read is not None and read.plate == "KTR4829"
    chars = list(read.chars)

    def line(plate_text: str, pattern: bool) -> LineRead:
        return LineRead(chars, [(PlateCandidate(plate_text, 0.9, pattern), "us")])

    runs: list[int] = []
    real = stage.model._be.run

    def counted(x: np.ndarray) -> np.ndarray:
        runs.append(len(x))
        return real(x)

    stage.model._be.run = counted  # type: ignore[method-assign]
    assert stage.settles(plate, line("KTR4829", True))
    assert not stage.settles(plate, line("KTR4829", False))  # no pattern: never settled
    assert not stage.settles(plate, line("KTR4B29", True))  # the model reads another plate
    stage.apply(plate, line("KTR4829", True))
    assert len(runs) == 1  # one model call for all four: same crop, same characters
    other = [CharPrediction(c.char, c.confidence, Box(c.box.x + 1, c.box.y, c.box.w, c.box.h), c.topk) for c in chars]
    stage.apply(plate, LineRead(other, line("KTR4829", True).ranked))
    assert len(runs) == 2  # other boxes: read again


def test_an_unknown_fill_when_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fill_when"):
        Reader(region="us", fill_when="sometimes")


def test_fill_when_is_a_read_option() -> None:
    from edge_ocr.reader.overrides import parse_sets

    assert parse_sets(["fill_when=always"]) == {"fill_when": "always"}
