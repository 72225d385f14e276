from __future__ import annotations

import cv2
import numpy as np

from edge_ocr.inkcolour import ink_image
from edge_ocr.types import Box

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
