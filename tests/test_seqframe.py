"""The sequence model's input framing around the contour reader's characters (edge_ocr.reader.seqframe)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.reader.seqframe import FrameParams, char_frame, cut, frame_for, whole_crop
from edge_ocr.types import Box, CharPrediction


def _char(x: int, y: int, w: int = 10, h: int = 20, row: int = 0) -> CharPrediction:
    return CharPrediction("A", 0.9, Box(x, y, w, h), row=row)


def test_one_row_box_widened_by_margins_in_character_heights() -> None:
    chars = [_char(30 + 12 * i, 20) for i in range(5)]  # x 30..88, y 20..40, height 20
    f = char_frame(chars, (100, 200))
    # 0.6 x 20 = 12 px left and right, 0.3 x 20 = 6 px above and below
    assert (f.x0, f.y0, f.x1, f.y1) == (18, 14, 100, 46)
    assert (f.rows, f.split, f.whole) == (1, 0.5, False)


def test_the_frame_is_clamped_to_the_crop() -> None:
    chars = [_char(2 + 12 * i, 1) for i in range(4)]
    f = char_frame(chars, (30, 50))
    assert (f.x0, f.y0, f.x1, f.y1) == (0, 0, 50, 27)


def test_margins_follow_the_median_height_not_an_outlier() -> None:
    chars = [_char(30 + 12 * i, 20) for i in range(4)] + [_char(80, 10, h=60)]
    f = char_frame(chars, (200, 200))
    assert f.x0 == 30 - 12 and f.y0 == 10 - 6 and f.y1 == 70 + 6


@pytest.mark.parametrize("n", [0, 1, 2])
def test_too_few_characters_fall_back_to_the_whole_crop(n: int) -> None:
    f = char_frame([_char(30 + 12 * i, 20) for i in range(n)], (100, 200))
    assert (f.x0, f.y0, f.x1, f.y1, f.whole) == (0, 0, 200, 100, True)
    assert f.rows == 1


def test_a_tiny_frame_falls_back_too() -> None:
    chars = [_char(10 + 2 * i, 10, w=2, h=3) for i in range(4)]
    f = char_frame(chars, (100, 200), FrameParams(min_side=8))
    assert f.whole


def test_two_rows_span_both_and_split_between_them() -> None:
    top = [_char(40 + 12 * i, 10, row=0) for i in range(3)]  # y 10..30
    bottom = [_char(20 + 12 * i, 40, row=1) for i in range(5)]  # y 40..60
    f = char_frame(top + bottom, (100, 200))
    assert (f.x0, f.y0, f.x1, f.y1) == (8, 4, 90, 66)
    assert f.rows == 2
    assert f.split == pytest.approx((35 - 4) / (66 - 4))


def test_two_row_fallback_keeps_the_rows_of_the_characters() -> None:
    f = char_frame([_char(10, 10, row=0), _char(10, 40, row=1)], (80, 100))
    assert f.whole and f.rows == 2 and f.split == 0.5


def test_crop_framing_is_the_whole_crop_whatever_the_characters() -> None:
    chars = [_char(30 + 12 * i, 20) for i in range(5)]
    assert frame_for("crop", chars, (100, 200)) == whole_crop((100, 200), chars)
    assert frame_for("chars", chars, (100, 200)) == char_frame(chars, (100, 200))


def test_cut_returns_the_frame_pixels() -> None:
    img = np.arange(100 * 200, dtype=np.int32).reshape(100, 200)
    f = char_frame([_char(30 + 12 * i, 20) for i in range(5)], img.shape)
    out = cut(img, f)
    assert out.shape == (46 - 14, 100 - 18) and out[0, 0] == img[14, 18]


MODEL = Path(__file__).resolve().parent.parent / "models" / "plate-seq"


def _model_with_framing(tmp_path: Path, framing: str | None) -> Path:
    card = json.loads((MODEL / "card.json").read_text())
    card["input"].pop("framing", None)
    if framing is not None:
        card["input"]["framing"] = framing
    for name in ("model_int8.tflite", "model_int8.onnx"):
        shutil.copyfile(MODEL / name, tmp_path / name)
    (tmp_path / "card.json").write_text(json.dumps(card))
    return tmp_path


@pytest.mark.skipif(not (MODEL / "card.json").exists(), reason="plate-seq absent")
@pytest.mark.parametrize("framing", [None, "crop", "chars"])
def test_the_reader_frames_its_input_as_its_card_says(tmp_path: Path, framing: str | None) -> None:
    from edge_ocr.reader.sequence import SequenceReader

    reader = SequenceReader(_model_with_framing(tmp_path, framing))
    img = np.random.default_rng(0).integers(0, 255, (100, 200, 3)).astype(np.uint8)
    chars = [_char(30 + 12 * i, 20) for i in range(5)]
    got = reader.read_line(img, chars).logp
    region = img[14:46, 18:100] if framing == "chars" else img  # old cards: the whole crop
    np.testing.assert_array_equal(got, reader.read(region).logp)


@pytest.mark.skipif(not (MODEL / "card.json").exists(), reason="plate-seq absent")
def test_an_unknown_framing_is_a_model_error(tmp_path: Path) -> None:
    from edge_ocr.errors import ModelError
    from edge_ocr.reader.sequence import SequenceReader

    with pytest.raises(ModelError):
        SequenceReader(_model_with_framing(tmp_path, "labeller"))


def test_training_keeps_the_labelled_framing_where_the_segmenter_disagrees() -> None:
    from convert.sequence.data import LineSample
    from convert.sequence.framing import framed

    img = np.zeros((100, 200), np.uint8)
    two_rows = LineSample(img, "AB12345", "vn-char-boxes", rows=2, split_y=0.4)
    one_row = char_frame([_char(30 + 12 * i, 20) for i in range(5)], img.shape)
    lost = char_frame([_char(30, 20)], img.shape)
    assert framed(two_rows, one_row, heldout=False) is two_rows  # rows disagree with the label
    assert framed(two_rows, lost, heldout=False) is two_rows  # the segmenter found too little
    single = LineSample(img, "AB12345", "us-nyc-crops")
    got = framed(single, one_row, heldout=False)
    assert got.image.shape == (32, 82) and got.rows == 1
    # held-out samples always take the device's frame, whatever the label says
    held = framed(two_rows, one_row, heldout=True)
    assert held.image.shape == (32, 82) and held.rows == 1
    assert framed(two_rows, lost, heldout=True).image.shape == (100, 200)
