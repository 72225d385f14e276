from __future__ import annotations

from pathlib import Path

from edge_ocr.reader.pipeline import Reader
from edge_ocr.types import Box, CharPrediction, PlateCandidate, PlateRead


def _read(char_h: int, text: str = "ABC123", conf: float = 0.9) -> PlateRead:
    chars = tuple(CharPrediction(c, conf, Box(10 * i, 0, 6, char_h)) for i, c in enumerate(text))
    corners = ((0.0, 0.0), (60.0, 0.0), (60.0, 20.0), (0.0, 20.0))
    return PlateRead(text, conf, "us", True, Box(0, 0, 60, 20), corners, (PlateCandidate(text, conf),), chars)


def test_frame_reads_of_tiny_glyphs_are_not_plates(plate_model_dir: Path) -> None:
    reader = Reader(plate_model_dir, min_char_height=8)
    assert reader._plausible(_read(12))
    assert not reader._plausible(_read(5))
    assert not reader._plausible(_read(12, "AB1"))  # too short
    assert not reader._plausible(_read(12, conf=0.1))  # too unsure
