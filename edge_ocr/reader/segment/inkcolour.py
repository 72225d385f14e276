"""The plate seen in its ink colour: pictures in other colours fade into the background.

A plate's characters are printed in one ink on one background, so every pixel of a character,
anti-aliased edges included, lies on the segment between those two colours in Lab space. A state
picture (a tree, a peach, an orange, a star) glued to a character is another colour and lies off
that segment. Grey scale cannot tell them apart; distance from the segment can. Once a line of
characters has been read, its boxes give the two colours, and `ink_image` returns a grey image in
which the ink is dark and both the background and anything off the ink-to-background segment are
light. Gap filling looks there again for characters a picture swallowed.

The same test applies to whole candidate characters: `LineColours.measure` says how far each box's
ink lies off the axis the line's characters share, so a picture with a character's shape (a
lighthouse read as 1, an emblem read as 0, a cactus read as I) is known by its colour, and how
strongly it stands out from its background, so a faint ghost (a pale picture behind the line, an
unpainted embossing) is known by its contrast.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import cv2
import numpy as np

from edge_ocr.types import Box, CharBox

#: Ink and background closer than this (Lab units) are no two colours: nothing to separate.
MIN_CONTRAST = 15.0
#: Off the segment by up to `NEAR` x its length a pixel keeps its place along it; the weight then
#: falls to zero over another `FADE` x the length (JPEG noise and blur keep ink near, not on, it).
NEAR = 0.25
FADE = 0.25


def _lab(bgr: np.ndarray) -> np.ndarray:
    if bgr.ndim == 3 and bgr.shape[2] == 4:
        bgr = bgr[:, :, :3]
    out: np.ndarray = cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    return out


def _split(
    lab: np.ndarray, gray: np.ndarray, b: Box, dark_on_light: bool
) -> tuple[np.ndarray, np.ndarray] | None:
    """Lab pixels of the ink and of the background inside one box, split by the box's own Otsu
    threshold; both sides are eroded by a pixel so the blended edge pixels do not pull the two
    colours towards each other. None for a box under 3 x 3 pixels inside the image."""
    h_img, w_img = gray.shape[:2]
    x1, y1, x2, y2 = max(0, b.x), max(0, b.y), min(w_img, b.x2), min(h_img, b.y2)
    if x2 - x1 < 3 or y2 - y1 < 3:
        return None
    flag = cv2.THRESH_BINARY_INV if dark_on_light else cv2.THRESH_BINARY
    _, ink = cv2.threshold(gray[y1:y2, x1:x2], 0, 255, flag + cv2.THRESH_OTSU)
    kernel = np.ones((2, 2), np.uint8)
    win = lab[y1:y2, x1:x2]
    return win[cv2.erode(ink, kernel) > 0], win[cv2.erode(255 - ink, kernel) > 0]


def ink_and_paper(
    lab: np.ndarray, gray: np.ndarray, boxes: Sequence[Box], dark_on_light: bool
) -> tuple[np.ndarray, np.ndarray] | None:
    """Median Lab colour of the ink and of the background inside the character boxes (`_split`)."""
    parts = [sp for sp in (_split(lab, gray, b, dark_on_light) for b in boxes) if sp is not None]
    inks, papers = [i for i, _ in parts], [p for _, p in parts]
    if sum(map(len, inks)) == 0 or sum(map(len, papers)) == 0:
        return None
    return np.median(np.concatenate(inks), axis=0), np.median(np.concatenate(papers), axis=0)


def ink_image(bgr: np.ndarray, boxes: Sequence[Box], dark_on_light: bool) -> np.ndarray | None:
    """Grey image of `bgr` (uint8, ink dark on light) keeping only colours between the ink and the
    background of the character `boxes`; None for a grey image or when the two colours are too close."""
    if bgr.ndim != 3 or bgr.shape[2] < 3:
        return None
    return _ink_image(_lab(bgr), cv2.cvtColor(bgr[:, :, :3], cv2.COLOR_BGR2GRAY), boxes, dark_on_light)


def _ink_image(
    lab: np.ndarray, gray: np.ndarray, boxes: Sequence[Box], dark_on_light: bool
) -> np.ndarray | None:
    colours = ink_and_paper(lab, gray, boxes, dark_on_light)
    if colours is None:
        return None
    ink, paper = colours
    axis = ink - paper
    length = float(np.linalg.norm(axis))
    if length < MIN_CONTRAST:
        return None
    v = lab.reshape(-1, 3) - paper
    t = v @ axis / (length * length)  # 0 at the background colour, 1 at the ink colour
    off = np.linalg.norm(v - t[:, None] * axis[None, :], axis=1) / length
    weight = np.clip(1.0 - (off - NEAR) / FADE, 0.0, 1.0)
    inkness = np.clip(t, 0.0, 1.0) * weight
    out: np.ndarray = (255.0 * (1.0 - inkness)).reshape(gray.shape).astype(np.uint8)
    return out


#: A character whose ink is farther than this (in ink-to-background lengths) off the line's
#: ink axis is faded out entirely by `ink_image`: it is not printed in the plate's ink.
OFF_INK = NEAR + FADE
#: A character printed in the line's ink stands out from its background about as much as the others
#: do; one with under half their contrast is a ghost, not print.
FAINT = 0.5


class LineColours:
    """A colour view of a plate, asked how far each candidate character's ink lies from the
    colour the line's characters share (see `measure`)."""

    def __init__(self, bgr: np.ndarray, shift: int = 0) -> None:
        self.gray = cv2.cvtColor(bgr[:, :, :3], cv2.COLOR_BGR2GRAY)
        self.lab = _lab(bgr)
        self.shift = shift  # columns to add to crop boxes to land in this view
        # (box in this view, polarity) -> `_inks` entry: a line's hypotheses share most of their boxes,
        # and the views made by `at` share this dict (their boxes are keyed after the shift)
        self._ink_cache: dict[tuple[int, int, int, int, bool], tuple[np.ndarray, np.ndarray] | None] = {}

    def at(self, shift: int) -> LineColours:
        """The same view for boxes `shift` columns to its left (the colour conversions are shared)."""
        other = copy.copy(self)
        other.shift = shift
        return other

    def ink_image(self, boxes: Sequence[Box], dark_on_light: bool) -> np.ndarray | None:
        """`ink_image` of this view (boxes in its own coordinates)."""
        return _ink_image(self.lab, self.gray, boxes, dark_on_light)

    def _inks(self, boxes: Sequence[CharBox]) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Median Lab colour of the ink and of the background in each box (`_split`)."""
        out: list[tuple[np.ndarray, np.ndarray] | None] = []
        for cb in boxes:
            b = cb.box.offset(self.shift, 0)
            key = (b.x, b.y, b.w, b.h, cb.dark_on_light)
            if key not in self._ink_cache:
                sp = _split(self.lab, self.gray, b, cb.dark_on_light)
                ok = sp is not None and len(sp[0]) and len(sp[1])
                self._ink_cache[key] = (
                    (np.median(sp[0], axis=0), np.median(sp[1], axis=0)) if sp is not None and ok else None
                )
            out.append(self._ink_cache[key])
        return out

    def measure(self, boxes: Sequence[CharBox]) -> list[tuple[float, float]]:
        """(off, contrast) of each box against the line. `off`: how far the box's ink colour lies off
        the axis from the line's background colour to its ink colour (medians over the boxes, so the
        characters outvote a picture among them), in lengths of that axis; darker or lighter ink of
        the same hue (shade, blur) stays on the axis, a picture in another colour does not.
        `contrast`: the box's own ink-to-background distance in the same lengths. (0.0, 1.0) for
        every box of a low-contrast line or of a line of fewer than three boxes, and for a box too
        small to split."""
        unknown = [(0.0, 1.0)] * len(boxes)
        if len(boxes) < 3:
            return unknown
        colours = self._inks(boxes)
        found = [c for c in colours if c is not None]
        if len(found) < 3:
            return unknown
        ink = np.median([c[0] for c in found], axis=0)
        paper = np.median([c[1] for c in found], axis=0)
        axis = ink - paper
        length = float(np.linalg.norm(axis))
        if length < MIN_CONTRAST:
            return unknown
        out = []
        for c in colours:
            if c is None:
                out.append((0.0, 1.0))
                continue
            v = c[0] - paper
            t = float(v @ axis) / (length * length)
            off = float(np.linalg.norm(v - t * axis)) / length
            out.append((off, float(np.linalg.norm(c[0] - c[1])) / length))
        return out

    def off_ink(self, boxes: Sequence[CharBox]) -> list[float]:
        """The `off` part of `measure`."""
        return [off for off, _ in self.measure(boxes)]

    def strangers(self, boxes: Sequence[CharBox]) -> list[bool]:
        """Boxes not printed like the line: ink off its colour axis (`OFF_INK`), or contrast under
        `FAINT` of the line's (a ghost: a shadow, an unpainted embossing, a sticker's faint print)."""
        return [off > OFF_INK or contrast < FAINT for off, contrast in self.measure(boxes)]
