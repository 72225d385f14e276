from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from edge_ocr.reader.segment.gapfill import fill_gaps
from edge_ocr.reader.segment.linegrid import GapParams, line_polarity
from edge_ocr.types import Box, CharBox, CharPrediction


def _plate() -> tuple[np.ndarray, list[Box]]:
    """Five dark bars of character size on a light plate, evenly pitched."""
    img = np.full((60, 220, 3), 230, np.uint8)
    boxes = []
    for i in range(5):
        x = 20 + i * 38
        cv2.rectangle(img, (x, 15), (x + 20, 45), (20, 20, 20), -1)
        boxes.append(Box(x, 15, 21, 31))
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), boxes


def _pred(box: Box, conf: float = 0.95) -> CharPrediction:
    return CharPrediction("H", conf, box, (("H", conf),))


def _classifier(conf: float):
    calls: list[int] = []

    def classify(boxes: Sequence[CharBox]) -> list[CharPrediction]:
        calls.append(len(boxes))
        return [_pred(b.box, conf) for b in boxes]

    return classify, calls


def test_missing_inner_and_end_characters_are_found_when_confidently_read() -> None:
    gray, boxes = _plate()
    known = [_pred(b) for i, b in enumerate(boxes) if i not in (0, 2)]  # first and middle missed
    classify, _ = _classifier(0.97)
    out = fill_gaps(gray, known, classify, dark_on_light=True)
    assert len(out) == 5
    xs = [c.box.x for c in out]
    assert xs == sorted(xs)
    for found, truth in zip(out, boxes, strict=True):
        assert found.box.iou(truth) > 0.7


def test_weak_reads_are_not_inserted() -> None:
    gray, boxes = _plate()
    known = [_pred(b) for b in boxes[1:]]
    classify, calls = _classifier(0.4)
    out = fill_gaps(gray, known, classify, dark_on_light=True)
    assert len(out) == 4 and calls  # looked, but the classifier did not vouch for it


def test_empty_slots_and_short_lines_are_left_alone() -> None:
    gray, boxes = _plate()
    classify, calls = _classifier(0.99)
    full = [_pred(b) for b in boxes]
    assert len(fill_gaps(gray, full, classify, dark_on_light=True)) == 5
    assert not calls  # nothing of line height beyond the ends: no classifier call
    assert len(fill_gaps(gray, full[:2], classify, dark_on_light=True)) == 2


def test_line_polarity() -> None:
    gray, boxes = _plate()
    preds = [_pred(b.offset(-3, -3)) for b in boxes]
    wide = [
        CharPrediction(p.char, p.confidence, Box(p.box.x, p.box.y, p.box.w + 6, p.box.h + 6)) for p in preds
    ]
    assert line_polarity(gray, wide)
    assert not line_polarity(255 - gray, wide)


def test_a_wide_end_character_touching_a_sticker_below_is_found() -> None:
    """A W or M is wider than the line's usual character, and a sticker may touch its foot."""
    gray, boxes = _plate()
    x = 20 + 5 * 38  # the sixth slot: a bar 1.6x as wide as the others, glued to a block below
    gray = np.pad(gray, ((0, 0), (0, 40)), constant_values=230)
    cv2.rectangle(gray, (x, 15), (x + 33, 45), 20, -1)
    cv2.rectangle(gray, (x + 5, 45), (x + 30, 58), 20, -1)
    classify, _ = _classifier(0.97)
    out = fill_gaps(gray, [_pred(b) for b in boxes], classify, dark_on_light=True)
    assert len(out) == 6
    assert out[-1].box.iou(Box(x, 15, 34, 31)) > 0.7


def _glued() -> tuple[np.ndarray, list[Box]]:
    """The five-bar plate with the middle character glued to a picture taller than the line."""
    gray, boxes = _plate()
    x = boxes[2].x
    cv2.rectangle(gray, (x + 20, 4), (x + 34, 58), 20, -1)
    return gray, boxes


def test_a_character_glued_to_a_picture_is_found_by_probing_the_slot() -> None:
    gray, boxes = _glued()
    known = [_pred(b) for i, b in enumerate(boxes) if i != 2]

    def sure_when_centred(cb: Sequence[CharBox]) -> list[CharPrediction]:
        return [_pred(b.box, 0.6 + 0.39 * b.box.iou(boxes[2])) for b in cb]

    out = fill_gaps(gray, known, sure_when_centred, dark_on_light=True)
    assert len(out) == 5
    assert out[2].box.iou(boxes[2]) > 0.7
    classify, _ = _classifier(0.4)  # the classifier still decides
    assert len(fill_gaps(gray, known, classify, dark_on_light=True)) == 4


def test_a_probe_read_as_a_bare_bar_is_not_a_character() -> None:
    gray, boxes = _glued()
    known = [_pred(b) for i, b in enumerate(boxes) if i != 2]

    def bar(cb: Sequence[CharBox]) -> list[CharPrediction]:
        return [CharPrediction("I", 0.99, b.box, (("I", 0.99),)) for b in cb]

    assert len(fill_gaps(gray, known, bar, dark_on_light=True)) == 4


def test_a_probe_read_as_l_counts_except_on_detected_plates() -> None:
    """An L is no bare bar, so a probe may find one; where the view is cut wider than the plate
    (a photo) a probe past the ends finds the frame's corner, so there it is not taken."""
    gray, boxes = _glued()
    known = [_pred(b) for i, b in enumerate(boxes) if i != 2]

    def ell(cb: Sequence[CharBox]) -> list[CharPrediction]:
        return [CharPrediction("L", 0.6 + 0.39 * b.box.iou(boxes[2]), b.box) for b in cb]

    found = fill_gaps(gray, known, ell, dark_on_light=True)
    assert len(found) == 5 and found[2].char == "L"
    assert len(fill_gaps(gray, known, ell, True, GapParams(probe_feet=False))) == 4


def _bar_plate(bar_x: int, bar_top: int = 15, bar_bottom: int = 45) -> tuple[np.ndarray, list[Box]]:
    """Four character bars at a pitch of 38 px and a thin fifth bar at `bar_x`."""
    img = np.full((70, 240), 230, np.uint8)
    boxes = []
    for i in range(4):
        x = 20 + i * 38
        cv2.rectangle(img, (x, 20), (x + 20, 50), 20, -1)
        boxes.append(Box(x, 20, 21, 31))
    cv2.rectangle(img, (bar_x, bar_top), (bar_x + 3, bar_bottom), 20, -1)
    return img, boxes


def _reads(ch: str):
    return lambda cb: [CharPrediction(ch, 0.99, b.box, ((ch, 0.99),)) for b in cb]


def test_a_bar_past_the_end_of_the_line_counts_only_on_the_pitch_grid() -> None:
    # The next slot's centre is 20 + 4 * 38 + 10 = 182: a bar centred there is a lost 1 or I.
    gray, boxes = _bar_plate(180, 20, 50)
    known = [_pred(b) for b in boxes]
    assert len(fill_gaps(gray, known, _reads("1"), dark_on_light=True)) == 5
    # 0.3 pitch off the grid it is the frame's edge or corner, whatever the classifier says.
    gray, boxes = _bar_plate(192, 20, 50)
    assert len(fill_gaps(gray, known, _reads("I"), dark_on_light=True)) == 4
    assert len(fill_gaps(gray, known, _reads("L"), dark_on_light=True)) == 4
    # Inside the line a bar counts wherever it stands.
    gray, boxes = _plate()
    inner = [_pred(b) for i, b in enumerate(boxes) if i != 2]
    assert len(fill_gaps(gray, inner, _reads("1"), dark_on_light=True)) == 5


def test_a_bar_running_through_the_line_band_is_no_character() -> None:
    # On the grid but cut by both edges of the band the search keeps (a band narrow enough that
    # the cut piece still has a character's height): a frame edge or separator.
    narrow_band = GapParams(band=0.55)
    gray, boxes = _bar_plate(180, 0, 69)
    known = [_pred(b) for b in boxes]
    assert len(fill_gaps(gray, known, _reads("1"), True, narrow_band)) == 4
    gray, boxes = _bar_plate(180, 20, 50)
    assert len(fill_gaps(gray, known, _reads("1"), True, narrow_band)) == 5


def test_a_component_read_unsurely_is_probed_again() -> None:
    """Glued to a picture of its own height the character is one wide component, read unsurely."""
    gray, boxes = _plate()
    x = boxes[2].x
    cv2.rectangle(gray, (x + 20, 15), (x + 33, 45), 20, -1)
    known = [_pred(b) for i, b in enumerate(boxes) if i != 2]

    def sure_when_centred(cb: Sequence[CharBox]) -> list[CharPrediction]:
        return [_pred(b.box, 0.6 + 0.39 * b.box.iou(boxes[2])) for b in cb]

    out = fill_gaps(gray, known, sure_when_centred, dark_on_light=True)
    assert len(out) == 5 and out[2].box.iou(boxes[2]) > 0.7


def test_an_i_off_the_pitch_grid_at_either_end_is_dropped_as_the_frame() -> None:
    from edge_ocr.reader.segment.linegrid import drop_frame_bars

    _, boxes = _plate()  # five characters at a pitch of 38 px
    line = [_pred(b) for b in boxes[:4]]

    def bar(x: int, ch: str = "I") -> CharPrediction:
        return CharPrediction(ch, 0.9, Box(x, 15, 4, 31), ((ch, 0.9),))

    edge = bar(8)  # 0.6 pitch before the first character's centre: off the grid
    assert drop_frame_bars([edge, *line], True) == line
    assert drop_frame_bars([*line, bar(182)], True) == [*line, bar(182)]  # on the grid: a character
    assert drop_frame_bars([edge, *line, bar(168)], True) == line  # both ends
    assert drop_frame_bars([bar(8, "1"), *line], True)[0].char == "1"  # a flagged 1 stays
    short = line[:2]
    assert drop_frame_bars([edge, *short], True) == [edge, *short]  # never below three characters
