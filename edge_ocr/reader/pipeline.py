"""Reader: plate crop or whole frame in, PlateReads out. Pure and synchronous: no I/O after loading.

The read path walks its stages once, in order:
detect (detect/) -> rectify (view.py) -> read line (line.py: segment, classify, choose, fill gaps,
assemble) -> second opinion (fusion.py: the CTC sequence model re-ranks the N-best) -> check plausibility -> rank (rank.py) -> suppress overlaps. This module only calls them;
each stage owns its parameters (a frozen dataclass in its module) and the Reader holds one per stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_ocr.models import ModelSpec
from edge_ocr.paths import default_model_dir
from edge_ocr.preprocess import to_gray
from edge_ocr.reader.assemble import PlateAssembler
from edge_ocr.reader.classify import CharClassifier
from edge_ocr.reader.detect import PlateDetector, TwoStepDetector, make_detector, resolve
from edge_ocr.reader.detect.refine import CnnLineDetector
from edge_ocr.reader.fusion import FusionParams, Scored, SequenceStage, choose_cut, make_stage, sure
from edge_ocr.reader.line import FillParams, LineParams, LineReader, StageClock
from edge_ocr.reader.rank import RankParams, rank_reads
from edge_ocr.reader.view import LineView, colour_of, rectified, to_frame, upscale, wide_view, widen_region
from edge_ocr.types import Box, PlateRead, PlateRegion, Point

STAGES = ("detect", "segment", "classify", "assemble", "sequence")


@dataclass(frozen=True)
class FrameParams:
    """Which proposals of a frame are read, and which reads a frame keeps."""

    min_length: int = 4  # frame reads shorter than this are bolts, stickers or partial plates
    min_confidence: float = 0.3  # frame reads below this are dropped
    min_char_height: int = 8  # frame pixels: shorter glyphs carry too little to read (x4 upsampling)
    max_regions: int = 12  # detector proposals read per frame: all the detector keeps (its max_proposals)
    nms_iou: float = 0.3
    widen: float = 2.5  # a read one character short is read again this many glyph heights wider each side
    widen_upto: int = 3  # ... and so is one of min_length - 1 up to this many characters (3: one short only)
    gap_context: float = 1.0  # glyph heights of frame beyond each end of a detector crop for gap filling
    # a frame with no learned box at its threshold reads its best box down to this score, kept only if sure
    # (PlateRegion.rescued; read_frame only, not the daemon's propose/refine: see CnnDetector.propose_or_rescue)
    rescue: float = 0.15


@dataclass(frozen=True)
class Proposed:
    """A detector's box before it is refined to its character row: `box` in the frame's pixels,
    `raw` the detector's own proposal (in the pixels of the image it detected on)."""

    box: Box
    score: float
    raw: Any


def _with(params: Any, overrides: dict[str, Any]) -> Any:
    """`params` with the overrides that name one of its fields (a name may belong to several
    stages: min_length is both the frame's and the line's)."""
    own = {f.name for f in fields(params)}
    return replace(params, **{k: v for k, v in overrides.items() if k in own})


class Reader:
    """The device-side plate reader; see the module docstring for the order of its stages.

    Keyword overrides (`Reader(min_char_height=8)`) set the field of that name in every stage's
    parameters that has one; an unknown name is a TypeError.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        backend: str = "tflite",
        fmt: str = "int8",
        region: str = "auto",
        threads: int = 1,
        detector: str = "auto",
        frame: FrameParams | None = None,
        line: LineParams | None = None,
        fill: FillParams | None = None,
        rank: RankParams | None = None,
        fusion: FusionParams | None = None,
        clock: Callable[[], float] = time.perf_counter,
        **overrides: Any,
    ) -> None:
        stages = (
            frame or FrameParams(),
            line or LineParams(),
            fill or FillParams(),
            rank or RankParams(),
            fusion or FusionParams(),
        )
        known = {f.name for p in stages for f in fields(p)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"Reader: unknown parameter(s) {unknown}")
        spec = ModelSpec.load(model_dir or default_model_dir(), fmt, backend)
        self.spec = spec
        classifier = CharClassifier(spec, spec.open_backend(threads), topk=3)
        frame_p, line_p, fill_p, rank_p, fusion_p = (_with(p, overrides) for p in stages)
        self.sequence: SequenceStage | None = make_stage(
            default_model_dir("plate-seq"), backend, fmt, threads, fusion_p
        )
        self.line = LineReader(classifier, PlateAssembler(region), line_p, fill_p)
        self.frame: FrameParams = frame_p
        self.rank: RankParams = rank_p
        self.detector_name = resolve(detector)  # auto: the learned detector when installed
        self.threads = threads
        self._detector: PlateDetector | None = None
        self.timer = StageClock(clock)

    @property
    def last_timings(self) -> dict[str, float]:
        """Milliseconds per stage of the last read_crop/read_frame call."""
        return self.timer.laps

    def read_crop(self, image: np.ndarray) -> PlateRead | None:
        """Read one plate crop (the whole image is the plate); None when no characters are found."""
        self.timer.laps = dict.fromkeys(STAGES, 0.0)
        gray = to_gray(image)
        h, w = gray.shape[:2]
        corners: tuple[Point, Point, Point, Point] = ((0, 0), (w, 0), (w, h), (0, h))
        view = LineView(gray, 0, colour_of(image))
        return self._read_scored(gray, PlateRegion(Box(0, 0, w, h), corners, gray, 0.0, ()), view, detected=False)[0]

    def read_frame(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRead]:
        """Detect plates in a frame, read the best proposals, keep plausible reads, best first.

        `detect_image` is an optional smaller view of the same frame (a camera's low-resolution Y
        plane): detection runs there and the plates are cut from `image`, so the costly search
        scales with the small stream while characters keep the full resolution. Textures (bars,
        repeats) and lettering beside a taller read on the same plate are dropped before ranking
        (see rank.py)."""
        self.timer.laps = dict.fromkeys(STAGES, 0.0)
        gray = to_gray(image)
        return self._read_regions(image, gray, self._timed_detect(image, gray, detect_image))

    def detect(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRegion]:
        """The first half of `read_frame`: plate regions in `image`'s pixels, best first.

        With `read_regions` a caller that follows plates across frames (the daemon) reads only the
        regions it has not read yet; `read_regions(image, detect(image, small))` is `read_frame`.
        `last_timings` then hold this call's detection time only."""
        self.timer.laps = dict.fromkeys(STAGES, 0.0)
        return self._timed_detect(image, to_gray(image), detect_image)

    def read_regions(self, image: np.ndarray, regions: Sequence[PlateRegion]) -> list[PlateRead]:
        """The second half of `read_frame`: read `regions` of `image` (from `detect` on the same
        frame), keep plausible reads, best first. `last_timings` add to those of `detect`."""
        return self._read_regions(image, to_gray(image), regions)

    def propose(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[Proposed] | None:
        """The detector's boxes before refinement, best first, in `image`'s pixels; None when the
        detector has no cheaper first step (the line finder: its proposals are already its rows).

        Refining a learned box to its character row costs about 5 ms, as much as the network pass:
        a caller that follows plates (the daemon) refines, with `refine`, only the boxes it will
        read. `refine(image, propose(image, small), small)` is `detect(image, small)`."""
        self.timer.laps = dict.fromkeys(STAGES, 0.0)
        t0 = self.timer.clock()
        det = self._the_detector()
        if not isinstance(det, TwoStepDetector):
            return None
        src = image if detect_image is None else detect_image
        sy, sx = image.shape[0] / src.shape[0], image.shape[1] / src.shape[1]
        out = []
        for p in det.propose(src)[: self.frame.max_regions]:
            b = p.box
            box = Box(int(round(b.x * sx)), int(round(b.y * sy)), int(round(b.w * sx)), int(round(b.h * sy)))
            out.append(Proposed(box, float(p.score), p))
        self.timer.lap("detect", t0)
        return out

    def refine(
        self, image: np.ndarray, proposed: Sequence[Proposed], detect_image: np.ndarray | None = None
    ) -> list[PlateRegion]:
        """Proposals from `propose` on the same frame as plate regions in `image`'s pixels (their
        time adds to `last_timings["detect"]`)."""
        det = self._the_detector()
        if not proposed or not isinstance(det, TwoStepDetector):
            return []
        t0 = self.timer.clock()
        gray = to_gray(image)
        if detect_image is None:
            regions = [det.refine(gray, p.raw) for p in proposed]
        else:
            small = to_gray(detect_image)
            regions = [upscale(det.refine(small, p.raw), gray, small.shape[:2]) for p in proposed]
        self.timer.lap("detect", t0)
        return regions

    def _the_detector(self) -> PlateDetector:
        if self._detector is None:
            self._detector = make_detector(self.detector_name, self.threads)
        return self._detector

    def _timed_detect(
        self, image: np.ndarray, gray: np.ndarray, detect_image: np.ndarray | None
    ) -> list[PlateRegion]:
        t0 = self.timer.clock()
        regions = self._detect(image, gray, detect_image)
        self.timer.lap("detect", t0)
        return regions

    def _read_regions(
        self, image: np.ndarray, gray: np.ndarray, regions: Sequence[PlateRegion]
    ) -> list[PlateRead]:
        colour = colour_of(image)
        gated = isinstance(self._the_detector(), TwoStepDetector)  # see FusionParams.frame_same_length
        fused, skip_sure = self.sequence is not None, self.sequence is not None and self.sequence.params.second_cut == "unsure"

        def read_cut(cut: PlateRegion) -> Scored:
            return self._read_scored(cut.crop, cut, wide_view(gray, colour, cut, self.frame.gap_context), True, gated)

        reads: list[PlateRead] = []
        for r in regions:
            first = read_cut(r)
            read = first[0]
            if r.rescued and not sure(first):
                read = None
            elif (alt := r.alternate) is not None:  # the same plate cut another way (a learned box itself)
                read = choose_cut(first, lambda: read_cut(alt), fused, skip_sure)
            if read is not None and self._part_of_row(read):
                wide = widen_region(gray, r, self.frame.widen)
                view = LineView(wide.crop, 0, rectified(colour, wide.corners))
                again = self._read_scored(wide.crop, wide, view, True, gated)[0]
                # Kept only when it extends the first read: both saw those characters alike.
                if again is not None and len(again.plate) > len(read.plate) and read.plate in again.plate:
                    read = again
            if read is not None and self._plausible(read):
                reads.append(read)
        frame_hw = (int(image.shape[0]), int(image.shape[1]))
        return _nms(rank_reads(reads, self.rank, frame_hw), self.frame.nms_iou)

    def _detect(
        self, image: np.ndarray, gray: np.ndarray, detect_image: np.ndarray | None
    ) -> list[PlateRegion]:
        """Proposals on the frame (a learned detector may want its colour), or on its small view
        cut again from the full-resolution grey frame."""
        det = self._the_detector()
        n = self.frame.max_regions
        if detect_image is None:
            # The grey frame is already made; only a detector that reads colour gets the frame itself.
            src = image if getattr(det, "colour", False) else gray
            if self.frame.rescue > 0 and isinstance(det, CnnLineDetector):
                return det.detect_rescue(src, self.frame.rescue)[:n]
            return det.detect(src)[:n]
        small_shape = detect_image.shape[:2]
        return [upscale(r, gray, small_shape) for r in det.detect(detect_image)[:n]]

    def _read_scored(
        self, crop: np.ndarray, region: PlateRegion, view: LineView | None, detected: bool, gated: bool = False
    ) -> Scored:
        """Read one rectified crop of `region` (boxes in frame pixels when `detected`), and the sequence model's
        frames of it (None without that stage). `gated`: the region's detector proposes only what it scores a plate."""
        settled = self.sequence.settler(crop) if self.sequence is not None else None
        line = self.line.read(crop, region.char_boxes, view, detected, self.timer, settled)
        if line is None:
            return None, None
        logp = None
        if self.sequence is not None:
            t0 = self.timer.clock()
            line, logp = self.sequence.apply_scored(crop, line, detected, detected and gated)
            self.timer.lap("sequence", t0)
        (top, reg), cands = line.ranked[0], tuple(c for c, _ in line.ranked)
        chars = line.chars
        if detected:
            chars = [to_frame(c, crop.shape, region.corners) for c in chars]
        return PlateRead(top.plate, top.confidence, reg, top.matches_pattern, region.box, region.corners, cands,
                         tuple(chars)), logp

    def _part_of_row(self, read: PlateRead) -> bool:
        """A confident read one character short of a plate (or up to `widen_upto` long): the detector may have
        boxed part of the row (a picture or bolt between the groups splits it), so the rest is looked for beside it."""
        p = self.frame
        short = p.min_length - 1 <= len(read.plate) <= max(p.widen_upto, p.min_length - 1)
        return p.widen > 0 and short and read.confidence >= p.min_confidence

    def _plausible(self, read: PlateRead) -> bool:
        p = self.frame
        tall = float(np.median([c.box.h for c in read.chars])) >= p.min_char_height if read.chars else False
        return len(read.plate) >= p.min_length and read.confidence >= p.min_confidence and tall


def _nms(reads: list[PlateRead], iou: float) -> list[PlateRead]:
    kept: list[PlateRead] = []
    for r in reads:
        if all(r.box.iou(k.box) <= iou for k in kept):
            kept.append(r)
    return kept
