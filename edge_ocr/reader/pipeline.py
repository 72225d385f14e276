"""Reader: plate crop or whole frame in, PlateReads out. Pure and synchronous: no I/O after loading.

Segmentation proposes a few hypotheses and the classifier, run once over all of their characters,
picks the one it reads most confidently. That costs one batched model call per plate and repairs
most binarization mistakes that geometry alone cannot judge.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_ocr.models import ModelSpec
from edge_ocr.paths import default_model_dir
from edge_ocr.preprocess import to_gray
from edge_ocr.reader.assemble import CONFUSABLES, PlateAssembler
from edge_ocr.reader.classify import CharClassifier
from edge_ocr.reader.rank import RankParams, rank_reads
from edge_ocr.reader.segment.contours import ContourSegmenter, Hypothesis
from edge_ocr.reader.segment.gapfill import GapParams, drop_frame_bars, fill_gaps, line_polarity
from edge_ocr.reader.segment.inkcolour import LineColours
from edge_ocr.types import Box, CharBox, CharPrediction, PlateRead, PlateRegion, Point

STAGES = ("detect", "segment", "classify", "assemble")


@dataclass(frozen=True)
class GapView:
    """Where gap filling looks: the same row as the crop, maybe cut wider (`shift` columns added
    on the left), in grey and, when the source had colour, in colour."""

    gray: np.ndarray
    shift: int = 0
    colour: np.ndarray | None = None


@dataclass(frozen=True)
class ReadParams:
    hypotheses: int = 4  # segmentations re-ranked by the classifier
    min_length: int = 4  # frame reads shorter than this are bolts, stickers or partial plates
    min_confidence: float = 0.3  # frame reads below this are dropped
    min_char_height: int = 8  # frame pixels: shorter glyphs carry too little to read (x4 upsampling)
    max_regions: int = 12  # detector proposals read per frame: all the detector keeps (its max_proposals)
    nms_iou: float = 0.3
    weak_end: float = 0.2  # a first/last char below this confidence is trimmed (graphics, frames)
    weak_inner: float = 0.0  # any char below this is dropped (state graphics between groups)
    char_toll: float = 0.45  # confidence a character must bring to count for a hypothesis
    odd_toll: float = 0.8  # the same for characters of odd shape (pictures are odd)
    off_ink_toll: float = 1.0  # and for one not printed like the line (LineColours.strangers)
    mismatch_cost: float = 1.0  # a read that fits no region layout loses about one character's worth
    min_end_support: float = 0.3  # share of thresholds that must agree on a first/last character
    gap_fill: bool = True  # search again where the line says a character is missing
    widen: float = 2.5  # a read one character short is read again this many glyph heights wider each side
    gap_context: float = 1.0  # glyph heights of frame beyond each end of a detector crop for gap filling
    ink_gap_fill: bool = True  # then again in the ink's colour, where pictures of other colours fade
    ink_confidence: float = 0.75  # a character found there (cut free by colour) needs this confidence
    frame_bars: bool = True  # photos: an I at either end of the row, off its pitch grid, is the frame
    rank: RankParams = RankParams()  # which frame reads are textures or plate lettering (rank.py)


class Reader:
    """The device-side plate reader; see the module docstring for how a plate is read."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        backend: str = "tflite",
        fmt: str = "int8",
        region: str = "auto",
        threads: int = 1,
        detector: str = "auto",
        params: ReadParams | None = None,
        clock: Callable[[], float] = time.perf_counter,
        **overrides: Any,
    ) -> None:
        spec = ModelSpec.load(model_dir or default_model_dir(), fmt, backend)
        self.spec = spec
        self.classifier = CharClassifier(spec, spec.open_backend(threads), topk=3)
        self.segmenter = ContourSegmenter()
        self.assembler = PlateAssembler(region)
        base = params or ReadParams()
        known = {k: v for k, v in overrides.items() if k in ReadParams.__dataclass_fields__}
        self.params = ReadParams(**{**base.__dict__, **known})
        self.detector_name = detector
        self._detector: Any = None
        self.clock = clock
        self.last_timings: dict[str, float] = {}

    def _detect(self, gray: np.ndarray) -> list[PlateRegion]:
        if self._detector is None:
            from edge_ocr.reader.detect.lines import make_detector

            self._detector = make_detector(self.detector_name)
        regions: list[PlateRegion] = self._detector.detect(gray)
        return regions

    def read_crop(self, image: np.ndarray) -> PlateRead | None:
        """Read one plate crop (the whole image is the plate); None when no characters are found."""
        self.last_timings = dict.fromkeys(STAGES, 0.0)
        gray = to_gray(image)
        h, w = gray.shape[:2]
        corners: tuple[Point, Point, Point, Point] = ((0, 0), (w, 0), (w, h), (0, h))
        return self._read(gray, Box(0, 0, w, h), corners, None, (), GapView(gray, 0, _colour(image)))

    def read_frame(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRead]:
        """Detect plates in a frame, read the best proposals, keep plausible reads, best first.

        `detect_image` is an optional smaller view of the same frame (a camera's low-resolution Y
        plane): detection runs there and the plates are cut from `image`, so the costly search
        scales with the small stream while characters keep the full resolution. Textures (bars,
        repeats) and lettering beside a taller read on the same plate are dropped before ranking
        (see rank.py)."""
        self.last_timings = dict.fromkeys(STAGES, 0.0)
        gray = to_gray(image)
        t0 = self.clock()
        if detect_image is None:
            regions = self._detect(gray)[: self.params.max_regions]
        else:
            small_gray = to_gray(detect_image)
            small = self._detect(small_gray)[: self.params.max_regions]
            regions = [_upscale(r, gray, small_gray.shape) for r in small]
        self.last_timings["detect"] = 1000.0 * (self.clock() - t0)
        colour = _colour(image)
        reads = []
        for r in regions:
            view = None
            if self.params.gap_context > 0:
                wide, shift = _widened(gray, r, self.params.gap_context)
                view = GapView(wide.crop, shift, _rectified(colour, wide.corners))
            read = self._read(r.crop, r.box, r.corners, r.corners, r.char_boxes, view)
            if read is not None and self._part_of_row(read):
                wide = widen_region(gray, r, self.params.widen)
                view = GapView(wide.crop, 0, _rectified(colour, wide.corners))
                again = self._read(wide.crop, wide.box, wide.corners, wide.corners, wide.char_boxes, view)
                # Kept only when it extends the first read: both saw those characters alike.
                if again is not None and len(again.plate) > len(read.plate) and read.plate in again.plate:
                    read = again
            if read is not None and self._plausible(read):
                reads.append(read)
        frame_hw = (int(image.shape[0]), int(image.shape[1]))
        return _nms(rank_reads(reads, self.params.rank, frame_hw), self.params.nms_iou)

    def _part_of_row(self, read: PlateRead) -> bool:
        """A confident read one character short of a plate: the detector may have boxed part of the
        row (a picture or bolt between the groups splits it), so the rest is looked for beside it."""
        p = self.params
        return p.widen > 0 and len(read.plate) == p.min_length - 1 and read.confidence >= p.min_confidence

    def _plausible(self, read: PlateRead) -> bool:
        p = self.params
        tall = float(np.median([c.box.h for c in read.chars])) >= p.min_char_height if read.chars else False
        return len(read.plate) >= p.min_length and read.confidence >= p.min_confidence and tall

    def _timed(self, stage: str, t0: float) -> float:
        t1 = self.clock()
        self.last_timings[stage] = self.last_timings.get(stage, 0.0) + 1000.0 * (t1 - t0)
        return t1

    def _read(
        self,
        crop: np.ndarray,
        box: Box,
        corners: tuple[Point, Point, Point, Point],
        frame_corners: tuple[Point, Point, Point, Point] | None,
        hint: Sequence[CharBox],
        view: GapView | None = None,
    ) -> PlateRead | None:
        """Read one crop. Gap filling looks in `view` (the crop itself when None), which may be cut
        wider for end characters the detector's crop left out."""
        t = self.clock()
        hyps = self.segmenter.hypotheses(crop, self.params.hypotheses)
        if hint:
            hyps.append(Hypothesis(tuple(hint), 0.0, "detector", (0.8,) * len(hint)))
        t = self._timed("segment", t)
        if not hyps:
            return None
        all_boxes = [b for h in hyps for b in h.boxes]
        unique, index = _dedupe_boxes(all_boxes)
        probs = self.classifier.scores(crop, unique)
        preds = self.classifier.predictions(all_boxes, probs[index])
        t = self._timed("classify", t)
        colours = None  # the view in colour, converted once for every use below
        if view is not None and view.colour is not None:
            colours = LineColours(view.colour)
        best = self._choose(hyps, preds, colours.at(view.shift) if colours is not None and view else None)
        t = self._timed("assemble", t)
        if best is None:
            return None
        chars, ranked = best
        chars, ranked = self._fill_gaps(crop, chars, ranked, view, frame_corners is not None, colours)
        t = self._timed("classify", t)
        (top, region), cands = ranked[0], tuple(c for c, _ in ranked)
        if frame_corners is not None:
            chars = [_to_frame(c, crop.shape, frame_corners) for c in chars]
        return PlateRead(
            top.plate, top.confidence, region, top.matches_pattern, box, corners, cands, tuple(chars)
        )

    def _fill_gaps(
        self,
        crop: np.ndarray,
        chars: list[CharPrediction],
        ranked: list[Any],
        view: GapView | None = None,
        detected: bool = False,
        colours: LineColours | None = None,
    ) -> tuple[list[CharPrediction], list[Any]]:
        """Look again where the line says a character is missing (see gapfill.py): in grey, then
        in the ink's colour (inkcolour.py) when the view has colour; on a `detected` plate, probe
        boxes take no L (the frame's corner) and end bars off the pitch grid are then dropped as
        the frame. Boxes come back in `crop` coordinates. `colours` is `view.colour` converted (None: grey only)."""
        p = self.params
        if not p.gap_fill:
            return chars, ranked
        dark = line_polarity(to_gray(crop), chars)
        view = view or GapView(to_gray(crop))
        gray = view.gray
        moved = [_shifted(c, view.shift) for c in chars]
        grey = GapParams(probe_feet=not detected)
        filled = fill_gaps(gray, moved, lambda boxes: self.classifier.classify(gray, boxes), dark, grey)
        gaps = replace(grey, min_chars=4, min_confidence=p.ink_confidence)
        if p.ink_gap_fill and colours is not None and len(filled) >= gaps.min_chars:
            ink = colours.ink_image([c.box for c in filled], dark)
            if ink is not None:  # ink is dark on light there, whatever the plate's polarity
                filled = fill_gaps(
                    ink, filled, lambda boxes: self.classifier.classify(ink, boxes), True, gaps
                )
        if colours is not None and len(filled) > len(moved):
            filled = _in_line_ink(filled, moved, colours, dark)
        if detected and p.frame_bars:
            filled = drop_frame_bars(filled, dark)
        if [c.box for c in filled] == [c.box for c in moved]:
            return chars, ranked
        filled = [_shifted(c, -view.shift) for c in filled]
        again = self.assembler.candidates(filled)
        return (filled, again) if again else (chars, ranked)

    def _choose(
        self, hyps: list[Hypothesis], preds: list[CharPrediction], colours: LineColours | None = None
    ) -> tuple[list[CharPrediction], list[Any]] | None:
        """The (hypothesis, pruning) whose characters bring the most confidence, layout permitting.

        Every character adds its confidence minus a toll, so a confidently read character counts, a
        graphic or frame piece read at low confidence costs, and a hypothesis that lost characters
        cannot win on a high mean. Dropping weak characters is tried as a variant rather than
        imposed, so a region layout (7 characters in Brazil) can still keep a weak real one. With
        `colours`, a character not printed like the line (another ink colour, or a faint ghost of
        one) is odd too, and must be read surely.
        """
        best: tuple[float, list[CharPrediction], list[Any]] | None = None
        i = 0
        p = self.params
        for h in hyps:
            support = h.support or (1.0,) * len(h.boxes)
            own = preds[i : i + len(h.boxes)]
            base = _trim_weak(list(zip(own, support, strict=True)), p)
            i += len(h.boxes)
            seg = [c for c, _ in base]
            tolls = char_tolls(seg, p.char_toll, p.odd_toll)
            if colours is not None:
                odd = dict(zip(map(id, own), colours.strangers(h.boxes), strict=True))
                tolls = [max(t, p.off_ink_toll) if odd[id(c)] else t for c, t in zip(seg, tolls, strict=True)]
            toll_of = {id(c): t for c, t in zip(seg, tolls, strict=True)}
            for chars in _pruned(seg, tolls, p.min_length):
                ranked = self.assembler.candidates(chars)
                if not ranked:
                    continue
                score = sum(charness(c) - toll_of[id(c)] for c in chars)
                score -= 0.0 if ranked[0][0].matches_pattern else p.mismatch_cost
                if best is None or score > best[0]:
                    best = (score, chars, ranked)
        return None if best is None else (best[1], best[2])


def _in_line_ink(
    filled: list[CharPrediction], found: list[CharPrediction], colours: LineColours, dark: bool
) -> list[CharPrediction]:
    """Characters gap filling added are dropped when not printed like the line (a green
    cactus beside dark green letters has a letter's shape); those segmented first stay."""
    first = {c.box for c in found}
    odd = colours.strangers([CharBox(c.box, c.row, dark) for c in filled])
    return [c for c, o in zip(filled, odd, strict=True) if c.box in first or not o]


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


def _pruned(chars: list[CharPrediction], tolls: list[float], keep: int) -> list[list[CharPrediction]]:
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


def _dedupe_boxes(boxes: list[CharBox], iou: float = 0.85) -> tuple[list[CharBox], list[int]]:
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


Scored = tuple[CharPrediction, float]  # a prediction and its box's support across binarizations


def _trim_weak(chars: list[Scored], p: ReadParams) -> list[Scored]:
    """Drop characters the model hardly recognises: state graphics, frame pieces, stickers.

    A character that weak would make the read wrong anyway, so dropping it costs little when it was
    real and repairs the read when it was not. At least `min_length` characters are kept.
    """

    def worth(c: Scored) -> float:
        return c[0].confidence

    while len(chars) > p.min_length and min(worth(chars[0]), worth(chars[-1])) < p.weak_end:
        chars = chars[1:] if worth(chars[0]) <= worth(chars[-1]) else chars[:-1]

    # A narrow end piece that few thresholds cut out is a fragment of frame, however it reads.
    def fragment(c: Scored) -> bool:
        return c[1] < p.min_end_support and c[0].box.w < 0.3 * c[0].box.h

    while len(chars) > p.min_length and (fragment(chars[0]) or fragment(chars[-1])):
        chars = chars[1:] if fragment(chars[0]) else chars[:-1]
    weakest = sorted(range(len(chars)), key=lambda i: worth(chars[i]))
    drop = {i for i in weakest[: max(0, len(chars) - p.min_length)] if worth(chars[i]) < p.weak_inner}
    return [c for i, c in enumerate(chars) if i not in drop]


def _colour(image: np.ndarray) -> np.ndarray | None:
    return image if image.ndim == 3 and image.shape[2] >= 3 else None


def _rectified(colour: np.ndarray | None, corners: tuple[Point, Point, Point, Point]) -> np.ndarray | None:
    from edge_ocr.reader.detect.geometry import rectify

    return None if colour is None else rectify(colour, corners)[0]


def _shifted(c: CharPrediction, dx: int) -> CharPrediction:
    return c if dx == 0 else replace(c, box=c.box.offset(dx, 0))


def widen_region(gray: np.ndarray, r: PlateRegion, glyphs: float) -> PlateRegion:
    """The region's crop extended along its row by `glyphs` glyph heights at each end."""
    return _widened(gray, r, glyphs)[0]


def _widened(gray: np.ndarray, r: PlateRegion, glyphs: float) -> tuple[PlateRegion, int]:
    """`widen_region`, and the crop columns added on the left (its hint boxes moved by as much)."""
    from edge_ocr.reader.detect.geometry import CROP_HEIGHT, PlateGeometry, bounding_box, rectify

    tl, tr, br, bl = r.corners
    h = math.hypot(bl[0] - tl[0], bl[1] - tl[1])
    w = math.hypot(tr[0] - tl[0], tr[1] - tl[1])
    if h <= 0 or w <= 0:
        return r, 0
    d = glyphs * h / PlateGeometry().height_per_glyph  # frame pixels added at each end
    ux, uy = (tr[0] - tl[0]) / w * d, (tr[1] - tl[1]) / w * d
    corners: tuple[Point, Point, Point, Point] = (
        (tl[0] - ux, tl[1] - uy),
        (tr[0] + ux, tr[1] + uy),
        (br[0] + ux, br[1] + uy),
        (bl[0] - ux, bl[1] - uy),
    )
    crop, _ = rectify(gray, corners)
    shift = int(round(d * CROP_HEIGHT / h))
    hint = tuple(CharBox(c.box.offset(shift, 0), c.row, c.dark_on_light) for c in r.char_boxes)
    box = bounding_box(corners, gray.shape[1], gray.shape[0])
    return PlateRegion(box=box, corners=corners, crop=crop, score=r.score, char_boxes=hint), shift


def _to_frame(c: CharPrediction, shape: tuple[int, ...], quad: tuple[Point, ...]) -> CharPrediction:
    """Map a char box from rectified-crop pixels to frame pixels through the crop's homography."""
    import cv2

    h, w = shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, np.array(quad, np.float32))
    b = c.box
    pts = np.array([[b.x, b.y], [b.x2, b.y], [b.x2, b.y2], [b.x, b.y2]], np.float32).reshape(-1, 1, 2)
    q = cv2.perspectiveTransform(pts, m).reshape(-1, 2)
    x1, y1 = np.floor(q.min(axis=0)).astype(int)
    x2, y2 = np.ceil(q.max(axis=0)).astype(int)
    return CharPrediction(
        c.char, c.confidence, Box(int(x1), int(y1), int(x2 - x1), int(y2 - y1)), c.topk, c.row
    )


def _upscale(region: PlateRegion, gray: np.ndarray, small_shape: tuple[int, ...]) -> PlateRegion:
    """A region found on the small view, cut again from the full-resolution frame."""
    from edge_ocr.reader.detect.geometry import bounding_box, rectify

    sy, sx = gray.shape[0] / small_shape[0], gray.shape[1] / small_shape[1]
    c = region.corners
    corners = (
        (c[0][0] * sx, c[0][1] * sy),
        (c[1][0] * sx, c[1][1] * sy),
        (c[2][0] * sx, c[2][1] * sy),
        (c[3][0] * sx, c[3][1] * sy),
    )
    crop, _ = rectify(gray, corners)
    box = bounding_box(corners, gray.shape[1], gray.shape[0])
    # The crop has the same height and nearly the same width, so the glyph hint still fits when
    # both axes scale alike; otherwise the segmenter works alone.
    hint = region.char_boxes if abs(sx - sy) < 0.02 * sx and crop.shape == region.crop.shape else ()
    return PlateRegion(box, corners, crop, region.score, hint)


def _nms(reads: list[PlateRead], iou: float) -> list[PlateRead]:
    kept: list[PlateRead] = []
    for r in reads:
        if all(r.box.iou(k.box) <= iou for k in kept):
            kept.append(r)
    return kept


def geometric_mean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(max(v, 1e-9)) for v in values) / len(values)) if values else 0.0
