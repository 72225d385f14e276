"""Which frame reads are read again widened along their row (FrameParams.widen, widen_upto): by default only
a read one character short of a plate (min_length - 1); with widen_upto=4 also a four-character read, which
is what a plate read without its left group of characters looks like (session 22, not the default)."""

from __future__ import annotations

import pytest

from edge_ocr.errors import ConfigError
from edge_ocr.reader.overrides import parse_sets
from edge_ocr.reader.pipeline import Reader
from edge_ocr.types import Box, PlateRead


def _read(plate: str, conf: float = 0.9) -> PlateRead:
    corners = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
    return PlateRead(plate, conf, "us", True, Box(0, 0, 10, 5), corners, (), ())


def test_only_a_read_one_short_is_widened_by_default() -> None:
    r = Reader(region="us", detector="lines")
    assert [r._part_of_row(_read("X" * n)) for n in (2, 3, 4, 5)] == [False, True, False, False]
    assert not r._part_of_row(_read("ABC", conf=0.1))  # an unsure read is not looked for beside


def test_widen_upto_four_widens_four_character_reads_too() -> None:
    r = Reader(region="us", detector="lines", widen_upto=4)
    assert [r._part_of_row(_read("X" * n)) for n in (2, 3, 4, 5)] == [False, True, True, False]
    assert not Reader(region="us", detector="lines", widen_upto=4, widen=0)._part_of_row(_read("ABCD"))


def test_widen_upto_is_a_set_name_with_an_int_value() -> None:
    assert parse_sets(["widen_upto=4"]) == {"widen_upto": 4}
    with pytest.raises(ConfigError, match="widen_upto"):
        parse_sets(["widen_upto=four"])
