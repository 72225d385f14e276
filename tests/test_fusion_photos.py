"""python -m edge_ocr.bench.fusion_photos: the held-out photo sets the reading rules are chosen on, with
reader parameters by name (skipped without ../shared/data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge_ocr.bench import fusion_photos
from edge_ocr.errors import ConfigError

DATA = Path(os.environ.get("EDGE_OCR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
needs_data = pytest.mark.skipif(not (DATA / "scenes").is_dir(), reason="../shared/data absent")


@needs_data
def test_swap_photos_with_a_reader_parameter(tmp_path: Path) -> None:
    out = tmp_path / "swap.json"
    argv = ["--data", str(DATA), "--set", "swap", "--half", "0", "--detector", "cnn", "--readers", "fused",
            "--every", "40", "--json", str(out)]  # fmt: skip
    assert fusion_photos.main([*argv, "--param", "second_cut=always", "--param", "rescue=0"]) == 0
    res = json.loads(out.read_text())
    assert res["param"] == {"second_cut": "always", "rescue": 0.0} and res["seeds"] == 2
    fused = res["fused"]
    assert fused["photos"] == 5 and fused["negatives"] > 0 and 0.0 <= fused["first_read_exact"] <= 1.0
    with pytest.raises(ConfigError, match="second_cut: unknown .sometimes."):
        fusion_photos.main([*argv, "--param", "second_cut=sometimes"])
