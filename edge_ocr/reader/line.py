"""The read-line stage: a rectified plate crop in, its final characters and ranked plates out.

Segmentation proposes a few hypotheses and the classifier, run once over all of their characters,
picks the one it reads most confidently (choose.py). That costs one batched model call per plate and
repairs most binarization mistakes that geometry alone cannot judge. The line the chosen characters
make then says where a character is missing: gap filling searches there, in grey and then in the
ink's colour (segment/), and the assembler ranks the plates the characters can spell. The classifier
and the assembler are asked through their interfaces; this stage owns the choice, not the reading.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from edge_ocr.errors import ConfigError
from edge_ocr.preprocess import to_gray
from edge_ocr.reader.assemble import PlateAssembler
from edge_ocr.reader.choose import Scored, char_tolls, charness, dedupe_boxes, pruned, trim_weak
from edge_ocr.reader.classify import CharClassifier
from edge_ocr.reader.segment.contours import ContourSegmenter, Hypothesis
from edge_ocr.reader.segment.gapfill import fill_gaps
from edge_ocr.reader.segment.inkcolour import LineColours
from edge_ocr.reader.segment.linegrid import GapParams, drop_frame_bars, line_polarity
from edge_ocr.reader.view import LineView, shifted
from edge_ocr.types import CharBox, CharPrediction, PlateCandidate

FILL_WHEN = ("always", "unsure")
Ranked = list[tuple[PlateCandidate, str]]  # the assembler's (candidate, region) pairs, best first


@dataclass(frozen=True)
class LineParams:
    """How a line's characters are chosen among the segmenter's hypotheses."""

    hypotheses: int = 4  # segmentations re-ranked by the classifier
    min_length: int = 4  # prunings keep at least this many characters
    weak_end: float = 0.2  # a first/last char below this confidence is trimmed (graphics, frames)
    weak_inner: float = 0.0  # any char below this is dropped (state graphics between groups)
    char_toll: float = 0.45  # confidence a character must bring to count for a hypothesis
    odd_toll: float = 0.8  # the same for characters of odd shape (pictures are odd)
    off_ink_toll: float = 1.0  # and for one not printed like the line (LineColours.strangers)
    mismatch_cost: float = 1.0  # a read that fits no region layout loses about one character's worth
    min_end_support: float = 0.3  # share of thresholds that must agree on a first/last character


@dataclass(frozen=True)
class FillParams:
    """Where the chosen line is searched again for characters it lacks (segment/gapfill.py)."""

    gap_fill: bool = True  # search again where the line says a character is missing
    ink_gap_fill: bool = True  # then again in the ink's colour, where pictures of other colours fade
    ink_confidence: float = 0.75  # a character found there (cut free by colour) needs this confidence
    frame_bars: bool = True  # photos: an I at either end of the row, off its pitch grid, is the frame
    # "unsure" (session 21): a fused reader skips gap filling when the chosen line is settled, i.e. its first
    # plate fits a region pattern and the sequence model's own best path is that plate (SequenceStage.settles);
    # "always" fills every line. Held-out, by a rule written first: swap photos 437 of 507 both, composites
    # 283 -> 282 of 430, 0.006 false plates per plate-free frame both, 12 % less CPU per photo
    fill_when: str = "unsure"


@dataclass
class StageClock:
    """Milliseconds per stage of the current read, summed over the regions of a frame."""

    clock: Callable[[], float] = time.perf_counter
    laps: dict[str, float] = field(default_factory=dict)

    def lap(self, stage: str, t0: float) -> float:
        t1 = self.clock()
        self.laps[stage] = self.laps.get(stage, 0.0) + 1000.0 * (t1 - t0)
        return t1


@dataclass(frozen=True)
class LineRead:
    chars: list[CharPrediction]  # crop coordinates, left to right
    ranked: Ranked


class LineReader:
    """segment -> classify -> choose -> fill gaps -> assemble, for one rectified crop."""

    def __init__(
        self,
        classifier: CharClassifier,
        assembler: PlateAssembler,
        params: LineParams | None = None,
        fill: FillParams | None = None,
    ) -> None:
        self.segmenter = ContourSegmenter()
        self.classifier = classifier
        self.assembler = assembler
        self.params = params or LineParams()
        self.fill = fill or FillParams()
        if self.fill.fill_when not in FILL_WHEN:
            raise ConfigError(f"fill_when: unknown {self.fill.fill_when!r}; choose from {', '.join(FILL_WHEN)}")

    def read(
        self,
        crop: np.ndarray,
        hint: Sequence[CharBox],
        view: LineView | None,
        detected: bool,
        timer: StageClock,
        settled: Callable[[LineRead], bool] | None = None,
    ) -> LineRead | None:
        """Read one crop. Gap filling looks in `view` (the crop itself when None), which may be cut
        wider for end characters the detector's crop left out; `hint` is the detector's own boxes.
        With `settled` and FillParams.fill_when "unsure", a chosen line it calls settled is not gap-filled."""
        t = timer.clock()
        hyps = self.segmenter.hypotheses(crop, self.params.hypotheses)
        if hint:
            hyps.append(Hypothesis(tuple(hint), 0.0, "detector", (0.8,) * len(hint)))
        t = timer.lap("segment", t)
        if not hyps:
            return None
        all_boxes = [b for h in hyps for b in h.boxes]
        unique, index = dedupe_boxes(all_boxes)
        probs = self.classifier.scores(crop, unique)
        preds = self.classifier.predictions(all_boxes, probs[index])
        t = timer.lap("classify", t)
        colours = None  # the view in colour, converted once for every use below
        if view is not None and view.colour is not None:
            colours = LineColours(view.colour)
        best = self._choose(hyps, preds, colours.at(view.shift) if colours is not None and view else None)
        t = timer.lap("assemble", t)
        if best is None:
            return None
        if settled is not None and self.fill.fill_when == "unsure":
            done = settled(best)  # a sequence model call (fusion reuses its read): timed as "sequence"
            t = timer.lap("sequence", t)
            if done:
                return best
        best = self._fill_gaps(crop, best, view, detected, colours)
        timer.lap("classify", t)
        return best

    def _choose(
        self, hyps: list[Hypothesis], preds: list[CharPrediction], colours: LineColours | None = None
    ) -> LineRead | None:
        """The (hypothesis, pruning) whose characters bring the most confidence, layout permitting.

        Every character adds its confidence minus a toll, so a confidently read character counts, a
        graphic or frame piece read at low confidence costs, and a hypothesis that lost characters
        cannot win on a high mean. Dropping weak characters is tried as a variant rather than
        imposed, so a region layout (7 characters in Brazil) can still keep a weak real one. With
        `colours`, a character not printed like the line (another ink colour, or a faint ghost of
        one) is odd too, and must be read surely.
        """
        best: tuple[float, LineRead] | None = None
        i = 0
        p = self.params
        for h in hyps:
            support = h.support or (1.0,) * len(h.boxes)
            own = preds[i : i + len(h.boxes)]
            scored: list[Scored] = list(zip(own, support, strict=True))
            base = trim_weak(scored, p.min_length, p.weak_end, p.min_end_support, p.weak_inner)
            i += len(h.boxes)
            seg = [c for c, _ in base]
            tolls = char_tolls(seg, p.char_toll, p.odd_toll)
            if colours is not None:
                odd = dict(zip(map(id, own), colours.strangers(h.boxes), strict=True))
                tolls = [max(t, p.off_ink_toll) if odd[id(c)] else t for c, t in zip(seg, tolls, strict=True)]
            toll_of = {id(c): t for c, t in zip(seg, tolls, strict=True)}
            for chars in pruned(seg, tolls, p.min_length):
                ranked = self.assembler.candidates(chars)
                if not ranked:
                    continue
                score = sum(charness(c) - toll_of[id(c)] for c in chars)
                score -= 0.0 if ranked[0][0].matches_pattern else p.mismatch_cost
                if best is None or score > best[0]:
                    best = (score, LineRead(chars, ranked))
        return None if best is None else best[1]

    def _fill_gaps(
        self, crop: np.ndarray, line: LineRead, view: LineView | None, detected: bool, colours: LineColours | None
    ) -> LineRead:
        """Look again where the line says a character is missing (see gapfill.py): in grey, then
        in the ink's colour (inkcolour.py) when the view has colour; on a `detected` plate, probe
        boxes take no L (the frame's corner) and end bars off the pitch grid are then dropped as
        the frame. Boxes come back in `crop` coordinates. `colours` is `view.colour` converted (None: grey only)."""
        f = self.fill
        if not f.gap_fill:
            return line
        dark = line_polarity(to_gray(crop), line.chars)
        view = view or LineView(to_gray(crop))
        gray = view.gray
        moved = [shifted(c, view.shift) for c in line.chars]
        grey = GapParams(probe_feet=not detected)
        filled = fill_gaps(gray, moved, lambda boxes: self.classifier.classify(gray, boxes), dark, grey)
        gaps = replace(grey, min_chars=4, min_confidence=f.ink_confidence)
        if f.ink_gap_fill and colours is not None and len(filled) >= gaps.min_chars:
            ink = colours.ink_image([c.box for c in filled], dark)
            if ink is not None:  # ink is dark on light there, whatever the plate's polarity
                filled = fill_gaps(
                    ink, filled, lambda boxes: self.classifier.classify(ink, boxes), True, gaps
                )
        if colours is not None and len(filled) > len(moved):
            filled = _in_line_ink(filled, moved, colours, dark)
        if detected and f.frame_bars:
            filled = drop_frame_bars(filled, dark)
        if [c.box for c in filled] == [c.box for c in moved]:
            return line
        filled = [shifted(c, -view.shift) for c in filled]
        again = self.assembler.candidates(filled)
        return LineRead(filled, again) if again else line


def _in_line_ink(
    filled: list[CharPrediction], found: list[CharPrediction], colours: LineColours, dark: bool
) -> list[CharPrediction]:
    """Characters gap filling added are dropped when not printed like the line (a green
    cactus beside dark green letters has a letter's shape); those segmented first stay."""
    first = {c.box for c in found}
    odd = colours.strangers([CharBox(c.box, c.row, dark) for c in filled])
    return [c for c, o in zip(filled, odd, strict=True) if c.box in first or not o]
