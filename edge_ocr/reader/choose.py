"""Choosing among segmentation hypotheses: how much each character is worth, and what to prune.

The classifier has read every character of every hypothesis once; these pure functions decide which
characters count (confidence against a toll, higher for odd shapes), which weak ends and inner
pieces may be dropped, and which boxes are the same character boxed twice.
"""

from __future__ import annotations

import numpy as np

from edge_ocr.reader.assemble import CONFUSABLES
from edge_ocr.types import CharBox, CharPrediction

Scored = tuple[CharPrediction, float]  # a prediction and its box's support across binarizations


def charness(c: CharPrediction) -> float:
    """How surely this is a character at all: its probability plus its look-alikes' (a '1' the
    model splits between 1 and I is surely a character; junk spreads over unrelated classes)."""
    alike = CONFUSABLES.get(c.char, "")
    return min(1.0, c.confidence + sum(p for ch, p in c.topk[1:] if ch in alike))


def char_tolls(chars: list[CharPrediction], toll: float, odd_toll: float) -> list[float]:
    """The confidence each character must bring. Pictures are wider, taller or shorter than the
    characters around them, so an odd shape must be read more surely to count as a character."""
    if not chars:
        return []
    wmed = float(np.median([c.box.w for c in chars]))
    hmed = float(np.median([c.box.h for c in chars]))
    odd = [c.box.w > 1.15 * wmed or abs(c.box.h - hmed) > 0.2 * hmed for c in chars]
    return [odd_toll if o else toll for o in odd]


def pruned(chars: list[CharPrediction], tolls: list[float], keep: int) -> list[list[CharPrediction]]:
    """The characters as segmented, and without weak ones at the ends and/or inside.

    Inside the line only odd shapes may go (their toll is higher than the plain one): a weakly
    read narrow 1 or a thin-font letter between others is still a character.
    """
    weak = [charness(c) < t for c, t in zip(chars, tolls, strict=True)]
    n = len(chars)
    plain = min(tolls, default=0.0)
    inner_weak = [
        w and (t > plain or j in (0, n - 1)) for j, (w, t) in enumerate(zip(weak, tolls, strict=True))
    ]
    out = [chars]
    lo = 1 if n and weak[0] else 0
    hi = n - 1 if n > 1 and weak[-1] else n
    for a, b in {(lo, n), (0, hi), (lo, hi)}:
        out.append(chars[a:b])
    out.append([c for c, w in zip(chars, inner_weak, strict=True) if not w])
    out.append([c for j, (c, w) in enumerate(zip(chars, inner_weak, strict=True)) if lo <= j < hi and not w])
    seen: set[tuple[int, ...]] = set()
    unique = []
    for v in out:
        key = tuple(id(c) for c in v)
        if key not in seen and len(v) >= min(keep, n):
            seen.add(key)
            unique.append(v)
    return unique


def dedupe_boxes(boxes: list[CharBox], iou: float = 0.85) -> tuple[list[CharBox], list[int]]:
    """Hypotheses share most characters, boxed a pixel apart by different thresholds; the
    preprocessing tightens to the ink anyway, so such boxes are classified once."""
    unique: list[CharBox] = []
    index = []
    for b in boxes:
        j = next(
            (
                i
                for i, u in enumerate(unique)
                if u.dark_on_light == b.dark_on_light and u.box.iou(b.box) >= iou
            ),
            None,
        )
        if j is None:
            unique.append(b)
            j = len(unique) - 1
        index.append(j)
    return unique, index


def trim_weak(
    chars: list[Scored], min_length: int, weak_end: float, min_end_support: float, weak_inner: float
) -> list[Scored]:
    """Drop characters the model hardly recognises: state graphics, frame pieces, stickers.

    A character that weak would make the read wrong anyway, so dropping it costs little when it was
    real and repairs the read when it was not. At least `min_length` characters are kept.
    """

    def worth(c: Scored) -> float:
        return c[0].confidence

    while len(chars) > min_length and min(worth(chars[0]), worth(chars[-1])) < weak_end:
        chars = chars[1:] if worth(chars[0]) <= worth(chars[-1]) else chars[:-1]

    # A narrow end piece that few thresholds cut out is a fragment of frame, however it reads.
    def fragment(c: Scored) -> bool:
        return c[1] < min_end_support and c[0].box.w < 0.3 * c[0].box.h

    while len(chars) > min_length and (fragment(chars[0]) or fragment(chars[-1])):
        chars = chars[1:] if fragment(chars[0]) else chars[:-1]
    weakest = sorted(range(len(chars)), key=lambda i: worth(chars[i]))
    drop = {i for i in weakest[: max(0, len(chars) - min_length)] if worth(chars[i]) < weak_inner}
    return [c for i, c in enumerate(chars) if i not in drop]
