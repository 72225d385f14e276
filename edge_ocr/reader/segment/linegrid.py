"""The line model that gap filling works from: a read line's height, pitch and slope, and its ends.

Gap filling (gapfill.py) searches the slots this model predicts; `drop_frame_bars` uses the same
pitch grid to tell a plate frame's edge from a character at either end of a detected plate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edge_ocr.preprocess import guess_dark_on_light
from edge_ocr.types import Box, CharBox, CharPrediction

#: Glyphs of a bar (and a bar with a foot): thresholding cuts them out cleanly, and in a probe box
#: or past the line's ends (off its pitch grid) they are a frame edge or corner, a separator or a
#: picture's edge more often than a lost character.
NARROW = frozenset("1IL")
BARS = frozenset("1I")

Classify = Callable[[Sequence[CharBox]], list[CharPrediction]]


@dataclass(frozen=True)
class GapParams:
    min_chars: int = 3  # a line needs this many characters before it can vouch for a gap
    min_confidence: float = 0.85  # a found character must be read at least this surely
    height_tol: float = 0.2  # a found component's height within this fraction of the line's
    max_end_steps: int = 2  # slots tried past each end of the line
    max_chars: int = 9
    max_width: float = 1.8  # W and M run up to ~1.7 x the line's median character width
    window: float = 1.2  # half-width of the search window around a slot, in character widths
    band: float = 0.6  # ink farther than this many line heights from the centre line is cut off
    probe: bool = True  # where no clean component is found, classify character-sized boxes at the slot
    probe_shift: float = 0.3  # probe boxes are moved up to this many pitches either way
    grid_tol: float = 0.1  # a bar past the line's ends must sit this close to the pitch grid (in pitches)
    probe_feet: bool = True  # a probe box may hold an L (not on detected plates: see `_probe`)


@dataclass(frozen=True)
class LineGrid:
    height: float
    width: float
    pitch: float
    slope: float
    intercept: float  # centre y = slope * x + intercept
    dark_on_light: bool

    def centre_y(self, x: float) -> float:
        return self.slope * x + self.intercept


def line_polarity(gray: np.ndarray, chars: Sequence[CharPrediction]) -> bool:
    """Dark ink on a light plate? Each character box votes from its own border and centre."""
    votes = [
        guess_dark_on_light(gray[c.box.y : c.box.y2, c.box.x : c.box.x2])
        for c in chars
        if c.box.w > 2 and c.box.h > 2
    ]
    return 2 * sum(votes) >= len(votes)


def line_of(chars: Sequence[CharPrediction], dark_on_light: bool) -> LineGrid:
    xs = np.array([c.box.x + c.box.w / 2 for c in chars], np.float64)
    ys = np.array([c.box.y + c.box.h / 2 for c in chars], np.float64)
    slope, intercept = np.polyfit(xs, ys, 1) if len(chars) >= 2 else (0.0, float(ys[0]))
    widths = [c.box.w for c in chars if c.box.w > 0.35 * c.box.h]  # narrow 1/I say little of width
    steps = np.diff(xs)
    pitch = 0.0
    if len(steps):
        # A step that skipped a missed character is a multiple of the pitch: divide it back.
        unit = max(float(steps.min()), 1.0)
        pitch = float(np.median(steps / np.maximum(1, np.round(steps / unit))))
    height = float(np.median([c.box.h for c in chars]))
    width = float(np.median(widths)) if widths else 0.6 * height
    return LineGrid(height, width, max(pitch, width), float(slope), float(intercept), dark_on_light)


def slots(chars: Sequence[CharPrediction], line: LineGrid, steps: int) -> list[tuple[float, int]]:
    """Centre x of each empty slot, with the index it would be inserted at."""
    out: list[tuple[float, int]] = []
    for i in range(len(chars) - 1):
        a, b = chars[i].box, chars[i + 1].box
        free = b.x - a.x2
        if free < 0.8 * line.width:
            continue
        n = max(1, int(round((b.x + b.w / 2 - a.x - a.w / 2) / line.pitch)) - 1)
        for k in range(1, n + 1):
            out.append((a.x2 + free * k / (n + 1), i + 1))
    first, last = chars[0].box, chars[-1].box
    for k in range(1, steps + 1):
        out.append((first.x + first.w / 2 - k * line.pitch, 0))
        out.append((last.x + last.w / 2 + k * line.pitch, len(chars)))
    return out


def not_frame(c: CharPrediction, line_chars: Sequence[CharPrediction], line: LineGrid, p: GapParams) -> bool:
    """Past the ends of the line a bar (1, I, L) is the plate's frame edge or corner more often
    than a lost character: it counts only if it stands on the line's pitch grid, as characters of
    a plate do and a frame edge need not."""
    first, last = line_chars[0].box, line_chars[-1].box
    if c.char not in NARROW or first.x < c.box.x < last.x2:
        return True
    end = first if c.box.x < first.x else last
    steps = abs(c.box.x + c.box.w / 2 - end.x - end.w / 2) / line.pitch
    return abs(steps - round(steps)) <= p.grid_tol


def drop_frame_bars(
    chars: Sequence[CharPrediction], dark_on_light: bool, params: GapParams = GapParams()
) -> list[CharPrediction]:
    """Drop a plain bar (read as I) at either end of the line when it is off the line's pitch grid.

    A detector cuts a photo's plate close to its row of characters, so the plate frame's edge, a
    bolt or a sticker's side stands just past the first or last character, where segmentation
    takes it for an I. A character sits on the grid of its neighbours; such an edge need not. A
    bar the model reads as 1 has a flag a frame edge lacks, and stays. Repeated while the ends
    are such bars, never below `params.min_chars` characters.
    """
    out = sorted(chars, key=lambda c: c.box.x)
    if any(c.row != out[0].row for c in out):
        return out
    while len(out) > params.min_chars:
        for end in (0, -1):
            bar = out[end]
            rest = out[1:] if end == 0 else out[:-1]
            if bar.char == "I" and not not_frame(bar, rest, line_of(rest, dark_on_light), params):
                out = rest
                break
        else:
            break
    return out


def overlaps(box: Box, boxes: Sequence[Box]) -> bool:
    """Shares more than 30 % of the narrower width with any of the boxes."""
    return any(min(box.x2, b.x2) - max(box.x, b.x) > 0.3 * min(box.w, b.w) for b in boxes)
