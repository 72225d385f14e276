from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_ocr.reader.pipeline import Reader
from edge_ocr.reader.segment.inkcolour import FAINT, OFF_INK, LineColours, ink_image
from edge_ocr.synth.plate import render_plate
from edge_ocr.types import Box, CharBox

NAVY = (90, 30, 20)  # BGR: grey level ~34
GREEN = (20, 50, 20)  # BGR: grey level ~37, as dark as the ink in grey


def _plate_with_picture() -> tuple[np.ndarray, list[Box], Box]:
    """Five navy bars on a light plate; a dark green picture touches the third bar."""
    img = np.full((60, 220, 3), (225, 230, 228), np.uint8)
    boxes = []
    for i in range(5):
        x = 20 + i * 38
        cv2.rectangle(img, (x, 15), (x + 20, 45), NAVY, -1)
        boxes.append(Box(x, 15, 21, 31))
    picture = Box(boxes[2].x2, 8, 14, 45)
    cv2.rectangle(img, (picture.x, picture.y), (picture.x2 - 1, picture.y2 - 1), GREEN, -1)
    img = np.asarray(cv2.GaussianBlur(img, (3, 3), 0), np.uint8)
    return img, boxes, picture


def _components(binary: np.ndarray) -> list[tuple[int, int, int, int]]:
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return [tuple(int(v) for v in stats[i, :4]) for i in range(1, n)]  # type: ignore[misc]


def test_a_picture_as_dark_as_the_ink_but_of_another_colour_fades() -> None:
    img, boxes, picture = _plate_with_picture()
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    _, ink_gray = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # In grey the third bar and the picture are one blob: no component has the bar's width.
    assert not any(
        abs(w - 21) <= 2 and abs(h - 31) <= 2 for x, y, w, h in _components(ink_gray) if 70 < x < 110
    )

    known = [b for i, b in enumerate(boxes) if i != 2]  # the line as read, without the glued bar
    out = ink_image(img, known, dark_on_light=True)
    assert out is not None and out.dtype == np.uint8 and out.shape == gray.shape
    inner = out[picture.y + 3 : picture.y2 - 3, picture.x + 3 : picture.x2 - 3]
    bar = out[boxes[2].y + 3 : boxes[2].y2 - 3, boxes[2].x + 3 : boxes[2].x2 - 3]
    assert inner.min() > 200  # the picture is background now
    assert bar.max() < 60  # the bar is still ink
    _, ink_bin = cv2.threshold(out, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    comps = _components(ink_bin)
    assert any(abs(x - boxes[2].x) <= 2 and abs(w - 21) <= 3 and abs(h - 31) <= 3 for x, y, w, h in comps)


def test_light_ink_on_a_dark_plate_comes_out_dark_on_light() -> None:
    img = np.full((50, 120, 3), (40, 30, 30), np.uint8)
    boxes = [Box(10 + 30 * i, 10, 18, 30) for i in range(3)]  # an O-like ring in each box
    for b in boxes:
        cv2.rectangle(img, (b.x, b.y), (b.x2 - 1, b.y2 - 1), (250, 250, 250), -1)
        cv2.rectangle(img, (b.x + 5, b.y + 5), (b.x2 - 6, b.y2 - 6), (40, 30, 30), -1)
    out = ink_image(img, boxes, dark_on_light=False)
    assert out is not None
    assert out[10:14, 10:28].max() < 40 and out[2:8, :].min() > 215


def test_no_colour_or_no_contrast_gives_nothing() -> None:
    img, boxes, _ = _plate_with_picture()
    assert ink_image(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), boxes, True) is None
    flat = np.full((60, 220, 3), 128, np.uint8)
    assert ink_image(flat, boxes, True) is None
    assert ink_image(img, [], True) is None


def _rings(img: np.ndarray, boxes: list[Box], colour: tuple[int, int, int]) -> None:
    for b in boxes:  # a ring, so each box holds ink and background
        cv2.rectangle(img, (b.x, b.y), (b.x2 - 1, b.y2 - 1), colour, -1)
        cv2.rectangle(img, (b.x + 6, b.y + 6), (b.x2 - 7, b.y2 - 7), (225, 230, 228), -1)


def test_off_ink_is_large_only_for_a_box_in_another_colour() -> None:
    img = np.full((60, 260, 3), (225, 230, 228), np.uint8)
    boxes = [Box(10 + 40 * i, 12, 24, 36) for i in range(6)]
    _rings(img, boxes[:5], NAVY)
    _rings(img, boxes[5:], (40, 140, 40))  # a green shape where a sixth character would be
    img = np.asarray(cv2.GaussianBlur(img, (3, 3), 0), np.uint8)
    off = LineColours(img).off_ink([CharBox(b) for b in boxes])
    assert max(off[:5]) < 0.1 < OFF_INK < off[5]
    # boxes of a crop that sits 7 columns into the view land on the same pixels
    moved = [CharBox(b.offset(-7, 0)) for b in boxes]
    assert LineColours(img, shift=7).off_ink(moved) == off


def test_off_ink_is_zero_without_contrast_or_without_a_line() -> None:
    flat = np.full((60, 260, 3), 128, np.uint8)
    boxes = [CharBox(Box(10 + 40 * i, 12, 24, 36)) for i in range(4)]
    assert LineColours(flat).off_ink(boxes) == [0.0] * 4
    img = np.full((60, 260, 3), (225, 230, 228), np.uint8)
    _rings(img, [Box(10, 12, 24, 36)], NAVY)
    _rings(img, [Box(50, 12, 24, 36)], (40, 140, 40))
    assert LineColours(img).off_ink(boxes[:2]) == [0.0, 0.0]  # two boxes: no majority to trust


def test_the_reader_leaves_out_a_character_shape_in_another_colour(plate_model_dir: Path) -> None:
    """A green '3' (a picture with a character's shape) between the groups of a rendered plate is
    read as a character in grey, and left out when the reader sees its colour."""
    p = render_plate("ABC  1234", np.random.default_rng(3), style="us", height=120, dark_on_light=True)
    img = p.image.copy()
    src = p.char_boxes[5]
    x = (p.char_boxes[2].x2 + p.char_boxes[3].x) // 2 - src.w // 2
    assert x + src.w < p.char_boxes[3].x and x > p.char_boxes[2].x2  # room between the groups
    win = cv2.cvtColor(img[src.y : src.y2, src.x : src.x2], cv2.COLOR_BGR2GRAY)
    glyph = win < (int(win.min()) + int(win.max())) // 2
    img[src.y : src.y2, x : x + src.w][glyph] = (40, 140, 40)
    reader = Reader(plate_model_dir, region="us", reader="contour")  # the contour reader's ink test
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    grey_read, colour_read = reader.read_crop(grey), reader.read_crop(img)
    assert grey_read is not None and grey_read.plate == "ABC31234"
    assert colour_read is not None and colour_read.plate == "ABC1234"


def test_gap_filling_keeps_only_finds_in_the_line_colour() -> None:
    from edge_ocr.reader.line import _in_line_ink
    from edge_ocr.types import CharPrediction

    img = np.full((60, 300, 3), (225, 230, 228), np.uint8)
    boxes = [Box(10 + 40 * i, 12, 24, 36) for i in range(7)]
    _rings(img, boxes[:5], NAVY)
    _rings(img, boxes[5:], (40, 140, 40))
    chars = [CharPrediction("0", 0.9, b) for b in boxes]
    segmented = chars[:4] + chars[5:6]  # the first green one came from segmentation
    kept = _in_line_ink(chars, segmented, LineColours(img), dark=True)
    assert kept == chars[:6]  # the green find (the last box) is dropped, the segmented one stays


def test_a_faint_ghost_of_a_character_is_a_stranger_to_the_line() -> None:
    img = np.full((60, 260, 3), (225, 230, 228), np.uint8)
    boxes = [Box(10 + 40 * i, 12, 24, 36) for i in range(6)]
    _rings(img, boxes[:5], NAVY)
    _rings(img, boxes[5:], (200, 206, 204))  # the same grey family, a fifth of the contrast
    img = np.asarray(cv2.GaussianBlur(img, (3, 3), 0), np.uint8)
    cbs = [CharBox(b) for b in boxes]
    measured = LineColours(img).measure(cbs)
    assert all(c > 0.8 for _, c in measured[:5]) and measured[5][1] < FAINT
    assert LineColours(img).strangers(cbs) == [False] * 5 + [True]
