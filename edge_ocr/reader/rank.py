"""Which frame reads to keep and which comes first: rules from the reads' text shape and geometry.

The classifier's confidence alone ranks a plate below things that read cleanly but are not
plates: rows of bars, grilles and fences read as 1/I/L runs, repeating textures read as one or two
characters over and over, and the small lettering printed on a plate (state names, slogans,
country strips), which the detector proposes as a line of its own. The rules here judge such reads
by what they look like, not by what they say:

* texture: a read made mostly of bar glyphs (1, I, L), or of at most two distinct characters, is
  a repeating pattern, not a plate number;
* furniture: a read lying inside or directly above/below another read whose characters are
  clearly taller is lettering on that plate; the plate number is its tallest line. The taller
  read must itself be read about as confidently, so that a large blurry texture cannot silence
  a plate beside it.

Then the order. Two signs say a read is probably not a plate, so it needs about twice the
confidence (`doubt`) to come before one without them:

* edge: its box touches the frame border. A plate cut by the border is incomplete anyway, and
  what sits there is mostly burned-in text: camera timestamps, channel names;
* no digit: standard-issue plates (US states, Europe, Brazil) all carry digits; words without
  one are mostly signs (EXIT, TAXI) and plate lettering (TEXAS). A single digit that the read's
  own candidates also spell as a letter (0NLY, whose candidates hold ONLY) does not count. Vanity
  plates still come first when nothing else in the frame is read as surely.

The texture and furniture thresholds were set on synthetic scenes, composites and negatives only.
The two ordering signs were chosen after reading the *kinds* of misranked bench photos (camera
timestamps in the corner, EXIT/TAXI signs); their weight is a round half, not fitted to bench/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_ocr.types import Box, PlateRead

BAR_GLYPHS = frozenset("1IL")


@dataclass(frozen=True)
class RankParams:
    bar_share: float = 0.75  # reads with at least this share of bar glyphs are fences or grilles
    min_distinct: int = 3  # reads with fewer distinct characters are repeating textures
    taller: float = 1.2  # a line this much taller than a read beside it is that plate's number
    beside_gap: float = 0.5  # vertical gap, in the taller box's heights, that still counts as beside
    rival_confidence: float = 0.8  # the taller read must bring this share of the other's confidence
    edge_margin: float = 0.004  # a box within this fraction of the frame size (>= 2 px) touches its border
    doubt: float = 0.5  # ranking weight per sign of a non-plate (edge, no digit)


def is_texture(plate: str, p: RankParams) -> bool:
    """True for reads of a repeating pattern rather than a plate number."""
    if not plate:
        return True
    bars = sum(ch in BAR_GLYPHS for ch in plate) / len(plate)
    return bars >= p.bar_share or len(set(plate)) < p.min_distinct


def line_height(read: PlateRead) -> float:
    """Median character height in frame pixels (the box height when no characters are known)."""
    if not read.chars:
        return float(read.box.h)
    return float(np.median([c.box.h for c in read.chars]))


def beside(a: Box, b: Box, gap: float) -> bool:
    """True when the boxes share most of the narrower one's width and touch or nearly touch vertically."""
    overlap = min(a.x2, b.x2) - max(a.x, b.x)
    if overlap < 0.5 * min(a.w, b.w):
        return False
    vgap = max(a.y, b.y) - min(a.y2, b.y2)
    return vgap < gap * max(a.h, b.h)


def is_furniture(read: PlateRead, others: Sequence[PlateRead], p: RankParams) -> bool:
    """True when `read` is small lettering beside or inside a taller, comparably sure read."""
    h = line_height(read)
    return any(
        o is not read
        and line_height(o) > p.taller * h
        and o.confidence >= p.rival_confidence * read.confidence
        and beside(read.box, o.box, p.beside_gap)
        for o in others
    )


def at_edge(box: Box, frame_hw: tuple[int, int], p: RankParams) -> bool:
    """True when the box touches (or nearly touches) the border of a frame of size frame_hw."""
    h, w = frame_hw
    m = max(2.0, p.edge_margin * max(h, w))
    return box.x <= m or box.y <= m or box.x2 >= w - m or box.y2 >= h - m


def has_digit(read: PlateRead) -> bool:
    """The read carries two digits, or one that none of its candidates spells as a letter.

    One look-alike makes a sign a number (0NLY, whose candidates hold ONLY); it takes two
    misread letters for a word to carry two digits, which a plate number does more often.
    """
    if sum(ch.isdigit() for ch in read.plate) >= 2:
        return True
    texts = [read.plate, *(c.plate for c in read.candidates)]
    return all(any(ch.isdigit() for ch in t) for t in texts)


def better_of(first: PlateRead | None, second: PlateRead | None) -> PlateRead | None:
    """Two reads of one plate cut two ways: the one that fits a region pattern, then the longer, then
    the more confident; `first` on a tie. Chosen on held-out crops composited into plate-free frames
    (edge_ocr.bench.fusion_photos --half 0: 267 of 430 first reads exact against 250 by confidence
    alone and 252 for the first cut alone): a cut that lost an end character reads shorter, and one
    that misreads a look-alike breaks the pattern."""
    if first is None or second is None:
        return first or second
    def key(r: PlateRead) -> tuple[bool, int, float]:
        return (r.matches_pattern, len(r.plate), r.confidence)
    return second if key(second) > key(first) else first


def rank_score(read: PlateRead, frame_hw: tuple[int, int] | None, p: RankParams) -> float:
    """Confidence, halved (`doubt`) for each sign of a non-plate: at the frame edge, no digit."""
    signs = int(not has_digit(read))
    if frame_hw is not None:
        signs += int(at_edge(read.box, frame_hw, p))
    return read.confidence * p.doubt**signs


def rank_reads(
    reads: Sequence[PlateRead], p: RankParams, frame_hw: tuple[int, int] | None = None
) -> list[PlateRead]:
    """Drop textures and plate furniture; order the rest by `rank_score` (NMS is the caller's)."""
    kept = [r for r in reads if not is_texture(r.plate, p)]
    kept = [r for r in kept if not is_furniture(r, kept, p)]
    return sorted(kept, key=lambda r: -rank_score(r, frame_hw, p))
