"""requant_outliers (convert/quantize.py): the int8 convolutions XNNPACK would refuse, named before a model
ships, instead of LiteRT's 'Node number N (TfLiteXNNPackDelegate) failed to prepare' at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from convert.quantize import requant_outliers

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("name", ["plate-chars", "chars62", "plate-seq", "plate-detector"])
def test_shipped_int8_models_load_in_xnnpack_limits(name: str) -> None:
    assert requant_outliers(MODELS / name / "model_int8.tflite") == []


def test_a_lower_limit_names_the_op_and_channel() -> None:
    # the shipped detector's widest case is one depthwise channel at ~2.6 (the refused export had 406 there)
    found = requant_outliers(MODELS / "plate-detector" / "model_int8.tflite", limit=2.0)
    assert found and all("DEPTHWISE_CONV_2D" in f or "CONV_2D" in f for f in found)
    assert any("channel 3 scale 2." in f for f in found)
    assert len(requant_outliers(MODELS / "plate-detector" / "model_int8.tflite", limit=0.5)) > len(found)
