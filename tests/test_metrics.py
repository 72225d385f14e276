"""Every benchmark figure against a hand count on tiny made-up cases."""

from __future__ import annotations

import numpy as np
import pytest

from edge_ocr.bench.metrics import (
    Pred,
    Truth,
    agreement,
    char_accuracy,
    confusion_matrix,
    edit_distance,
    latency_stats,
    match_boxes,
    per_class_accuracy,
    score_frame,
    summarize,
)
from edge_ocr.types import Box


def test_iou_edge_cases() -> None:
    a = Box(0, 0, 10, 10)
    assert a.iou(Box(10, 0, 10, 10)) == 0.0  # touching edges share no area
    assert a.iou(Box(2, 2, 5, 5)) == pytest.approx(25 / 100)  # contained
    assert a.iou(a) == 1.0
    assert a.iou(Box(5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert a.iou(Box(3, 3, 0, 0)) == 0.0  # empty box
    assert Box(0, 0, 0, 0).iou(Box(0, 0, 0, 0)) == 0.0


def test_match_boxes_is_one_to_one_and_thresholded() -> None:
    truths = [Box(0, 0, 10, 10), Box(100, 0, 10, 10)]
    preds = [Box(1, 0, 10, 10), Box(0, 0, 10, 10), Box(105, 0, 10, 10), None]
    m = match_boxes(truths, preds, 0.3)
    # truth 0 takes the exact box (IoU 1), truth 1 the half-shifted one (IoU 50/150 = 0.333).
    assert [(x.truth, x.pred) for x in m] == [(0, 1), (1, 2)]
    assert m[1].iou == pytest.approx(1 / 3)
    assert match_boxes(truths, preds, 0.34)[-1].truth == 0  # 0.333 no longer counts
    assert match_boxes([], preds) == [] and match_boxes(truths, []) == []


def test_edit_distance_and_char_accuracy() -> None:
    assert edit_distance("ABC123", "ABC123") == 0
    assert edit_distance("ABC123", "A8C123") == 1
    assert edit_distance("ABC123", "BC123") == 1
    assert edit_distance("", "ABC") == 3
    assert edit_distance("kitten", "sitting") == 3
    # (1 + 7) errors over 7 + 7 truth characters.
    assert char_accuracy(["ABC1234", "XYZ7890"], ["ABC1284", ""]) == pytest.approx(1 - 8 / 14)
    assert char_accuracy([], []) == 1.0
    assert char_accuracy(["AB"], ["WXYZQ"]) == 0.0  # floored


def test_two_plates_in_one_frame_with_a_false_positive() -> None:
    truths = [Truth("ABC123", Box(0, 0, 100, 50)), Truth("XYZ789", Box(500, 0, 100, 50))]
    preds = [
        Pred("XYZ780", 0.9, Box(505, 5, 100, 50), ("XYZ780", "XYZ789")),
        Pred("ABC123", 0.8, Box(10, 0, 100, 50)),
        Pred("JUNK", 0.5, Box(300, 300, 50, 20)),
    ]
    scores, fp = score_frame(truths, preds, top_n=2)
    assert fp == 1
    assert [(s.read, s.detected, s.exact, s.topn, s.distance) for s in scores] == [
        ("ABC123", True, True, True, 0),
        ("XYZ780", True, False, True, 1),
    ]
    summary = summarize(scores, frames=1, false_positives=fp)
    assert summary.exact == 0.5 and summary.topn == 1.0 and summary.detection_rate == 1.0
    assert summary.char_accuracy == pytest.approx(1 - 1 / 12)
    assert summary.fp_per_frame == 1.0


def test_right_text_in_the_wrong_place_is_neither_detected_nor_read() -> None:
    truths = [Truth("ABC123", Box(0, 0, 100, 50))]
    scores, fp = score_frame(truths, [Pred("ABC123", 0.9, Box(400, 400, 100, 50))])
    assert not scores[0].detected and not scores[0].exact and scores[0].distance == 6 and fp == 1


def test_empty_predictions_and_negative_frames() -> None:
    scores, fp = score_frame([Truth("ABC123", Box(0, 0, 10, 10))], [])
    assert fp == 0 and scores[0].read == "" and not scores[0].detected and scores[0].distance == 6
    s = summarize(scores, frames=1, false_positives=0)
    assert s.exact == 0.0 and s.char_accuracy == 0.0
    scores, fp = score_frame([], [Pred("AB1", 0.4, Box(0, 0, 5, 5)), Pred("C2", 0.3, Box(9, 9, 5, 5))])
    assert scores == [] and fp == 2
    neg = summarize([], frames=4, false_positives=2)
    assert neg.fp_per_frame == 0.5 and neg.exact == 0.0 and neg.plates == 0


def test_crops_without_boxes_use_the_most_confident_read() -> None:
    scores, fp = score_frame(
        [Truth("7ABC123")], [Pred("7ABC12", 0.2), Pred("7ABC123", 0.9, None, ("7A8C123",))]
    )
    assert scores[0].exact and scores[0].topn and fp == 1  # a crop holds one plate: the other read is false
    scores, _ = score_frame([Truth("7ABC123")], [Pred("7A8C123", 0.9, None, ("7ABC123",))], top_n=1)
    assert not scores[0].exact and not scores[0].topn
    scores, _ = score_frame([Truth("7ABC123")], [Pred("7A8C123", 0.9, None, ("7ABC123",))], top_n=2)
    assert scores[0].topn


def test_latency_stats() -> None:
    s = latency_stats([float(x) for x in range(1, 11)])  # 1..10 ms
    assert s.n == 10 and s.median == 5.5 and s.mean == 5.5 and s.min == 1 and s.max == 10
    assert s.p90 == pytest.approx(9.1)  # linear interpolation: 1 + 0.9 * 9
    assert latency_stats([]).n == 0


def test_confusion_matrix_per_class_and_agreement() -> None:
    labels = ["0", "O", "8", "Z"]
    cm = confusion_matrix(["0", "0", "O", "8", "8", "X"], ["0", "O", "O", "8", "0", "8"], labels)
    assert cm.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    acc = per_class_accuracy(cm, labels)  # an unseen class has no accuracy, not 0
    assert acc == {"0": 0.5, "O": 1.0, "8": 0.5, "Z": None}
    assert agreement(["A", "B", "C", "D"], ["A", "B", "X", "D"]) == 0.75
    assert agreement([], []) == 1.0
    with pytest.raises(ValueError):
        agreement(["A"], [])
    assert isinstance(cm, np.ndarray)
