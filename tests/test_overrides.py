"""`--set NAME=VALUE` (edge_ocr.reader.overrides): names and values checked against the reader's stage
parameters before any model loads."""

from __future__ import annotations

import pytest

from edge_ocr.errors import ConfigError
from edge_ocr.reader.overrides import field_types, parse_sets


def test_values_take_the_fields_types() -> None:
    got = parse_sets(["rescue=0", "max_regions=3", "gap_fill=off", "frame_same_length=none", "second_cut=always",
                      "weight=2.5", "min-length=5"])  # fmt: skip
    assert got == {"rescue": 0.0, "max_regions": 3, "gap_fill": False, "frame_same_length": None,
                   "second_cut": "always", "weight": 2.5, "min_length": 5}  # fmt: skip
    assert isinstance(got["rescue"], float) and isinstance(got["max_regions"], int)
    assert parse_sets(["frame_same_length=yes"]) == {"frame_same_length": True}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("rescue", "expected NAME=VALUE"),
        ("=3", "expected NAME=VALUE"),
        ("nosuch=1", "nosuch: not a reader parameter"),
        ("reader=contour", "use --reader"),
        ("max_regions=2.5", "expected int"),
        ("gap_fill=maybe", "expected bool"),
        ("weight=heavy", "expected float | None"),
    ],
)
def test_bad_items_name_the_option(item: str, message: str) -> None:
    with pytest.raises(ConfigError, match="--set") as e:
        parse_sets([item])
    assert message in str(e.value)


def test_every_stage_field_is_known_once() -> None:
    types = field_types()
    assert "reader" not in types and {"rescue", "second_cut", "min_length", "keep"} <= set(types)
    assert types["min_length"] == "int"  # FrameParams and LineParams both have it, as an int
