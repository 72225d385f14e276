"""The shipped plate-chars card is what its int8 file scores on convert's held-out split (accuracy and the
look-alike pair table), and the int8 file stays close to its float twin there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ai_edge_litert")


@pytest.mark.data
def test_heldout_accuracy_and_pairs_reproduce_the_card(shared_data: Path, plate_model_dir: Path) -> None:
    from convert.plate_chars.confusion import evaluate, heldout_test

    test = heldout_test(shared_data, None)
    card = json.loads((plate_model_dir / "card.json").read_text())
    want = card["metrics"]["heldout"]["tflite_int8"]
    got = evaluate(plate_model_dir, test.x, test.y)
    assert got["n"] == want["n"]
    assert got["accuracy"] == pytest.approx(want["accuracy"], abs=0.002)
    pairs = card["metrics"].get("confusion_pairs", {})
    shipped = [v for k, v in pairs.items() if v["accuracy"] == pytest.approx(got["accuracy"], abs=1e-9)]
    if pairs:  # the card's table names this model's column by its accuracy
        assert shipped and shipped[-1]["total_within"] == got["pairs"]["total_within"]
    flt = evaluate(plate_model_dir, test.x, test.y, "tflite_float")
    assert abs(flt["accuracy"] - got["accuracy"]) <= 0.005
