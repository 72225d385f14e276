"""convert.sequence.pseudo: the keep rule and line joining (pure, always run); RapidOCR itself only
where the workstation-only extra `pseudo` is installed (CI skips that test)."""

from __future__ import annotations

import numpy as np
import pytest

from convert.sequence.pseudo import clean, crop_of, join_lines, keep_label


def test_keep_label_needs_two_reads_that_agree_and_a_plate_length() -> None:
    assert keep_label("MH01AV8866", "MH01AV8866", "", "") == ("MH01AV8866", "rapid_ab")
    assert keep_label("ab-12 cd", "AB12CD", "AB12CO", "") == ("AB12CD", "rapid_ab")  # cleaned first
    both = ("KL01CA2555", "contour+sequence")
    assert keep_label("KLC1CA2555", "KL01CA2555", "KL01CA2555", "KL01CA2555") == both
    assert keep_label("PGMN112", "PGOMN112", "", "PGMN112") == ("PGMN112", "sequence")
    assert keep_label("7ABC123", "7ABC123", "7ABC123", "7ABC123") == ("7ABC123", "rapid_ab+contour+sequence")
    assert keep_label("7ABC123", "7A8C123", "", "") is None  # RapidOCR alone, disagreeing
    assert keep_label("7ABC123", "", "7ABC128", "7A8C123") is None  # nobody confirms
    assert keep_label("ABC", "ABC", "ABC", "ABC") is None  # too short
    assert keep_label("CALIFORNIA7ABC123", "CALIFORNIA7ABC123", "", "") is None  # too long
    assert keep_label("", "", "", "") is None
    assert keep_label("7ABC123", "7ABC128", "7ABC123", "7ABC128") is None  # two confirmed texts


def test_join_lines_reads_rows_top_to_bottom_then_left_to_right() -> None:
    def line(x: float, y: float, text: str, score: float) -> list[object]:
        return [[[x, y], [x + 20, y], [x + 20, y + 8], [x, y + 8]], text, score]

    # two rows only 9 px apart (RapidOCR's own sort would read them as one row), given out of order
    result = [line(30, 10, "1234", 0.8), line(0, 1, "mh-12", 1.0), line(0, 10, "ab", 0.9)]
    text, conf = join_lines(result)
    assert text == "MH12AB1234"
    assert conf == pytest.approx((4 * 1.0 + 2 * 0.9 + 4 * 0.8) / 10)
    assert join_lines(None) == ("", 0.0) and clean("ka 05-mk") == "KA05MK"


def test_crop_adds_a_margin_clips_to_the_image_and_skips_small_boxes() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    assert crop_of(img, (50, 40, 100, 25)).shape == (29, 104, 3)  # type: ignore[union-attr]
    assert crop_of(img, (0, 0, 100, 25)).shape == (27, 102, 3)  # type: ignore[union-attr]
    assert crop_of(img, (50, 40, 100, 11)) is None and crop_of(img, (50, 40, 29, 20)) is None


def test_rapidocr_reads_a_rendered_plate() -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    from convert.sequence.pseudo import DET_SIDE, second_view

    img = np.full((60, 220, 3), 255, np.uint8)
    cv2.putText(img, "AB12CDE", (8, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, det_limit_side_len=DET_SIDE)
    a, conf = join_lines(engine(img)[0])
    b, _ = join_lines(engine(second_view(img))[0])
    assert keep_label(a, b, "", "") == ("AB12CDE", "rapid_ab") and conf > 0.5
