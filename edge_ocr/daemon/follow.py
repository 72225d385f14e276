"""Work per frame that follows what is new: detect every frame, read only plates not yet settled.

Reading a plate (segment, classify, assemble) costs tens of milliseconds; detecting it costs a few
with the learned detector. A vehicle stays in view for dozens of frames, and once the tracker has
voted its plate (`new` is out and `follow_after` later reads agreed) reading it again adds nothing.
So each frame is detected (on the camera's low-resolution stream when there is one), the regions
that overlap a settled track only move that track's box, and the rest are read at full resolution.
A plate cut by the frame's edge (a vehicle arriving or leaving) is not read either: a part of a plate
gives a part of its text, and the vehicle is read once it is whole in view. A still region whose
read found no plate (texture the character-line finder proposes on every frame) is read again
after `recheck_s`, or as soon as it moves. With the learned detector (`cnn`) a box is refined to
its character row (about 5 ms, as much as the network pass) only when it will be read: a box that
is last frame's box moved carries that box's row along (`carry`), so a followed plate, or a sign
proposed on every frame, costs the network pass and no more. Nothing is skipped silently: every
region is counted as read, followed, covered (inside a followed plate: the state name or slogan
printed on it), cut by the edge, or still, and the counts reach the stats and the trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from edge_ocr.daemon.config import TrackerConfig
from edge_ocr.daemon.track import PlateTracker
from edge_ocr.reader.pipeline import Proposed
from edge_ocr.reader.rank import RankParams, beside
from edge_ocr.types import Box, PlateRead, PlateRegion

RANK = RankParams()  # the reader's rule for lettering beside a plate, applied to regions not read
STILL_IOU = 0.6  # a region overlapping a remembered one this much, without motion, is the same texture
SAME_IOU = 0.5  # a learned box overlapping last frame's this much is the same plate, moved
REFRESH_FRAMES = 15  # a box carried forward this many frames is refined again (half a second at 30 fps)


@runtime_checkable
class RegionReader(Protocol):
    """A reader that detects and reads in two calls (edge_ocr.reader.pipeline.Reader)."""

    @property
    def last_timings(self) -> dict[str, float]: ...

    def detect(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRegion]: ...

    def read_regions(self, image: np.ndarray, regions: Sequence[PlateRegion]) -> list[PlateRead]: ...


@runtime_checkable
class ProposalReader(Protocol):
    """A RegionReader whose detector can defer refining its boxes (Reader.propose / refine)."""

    def propose(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[Proposed] | None: ...

    def refine(
        self, image: np.ndarray, proposed: Sequence[Proposed], detect_image: np.ndarray | None = None
    ) -> list[PlateRegion]: ...


@dataclass(frozen=True)
class Carried:
    """Last frame's learned box, the region refined from it (or carried), and frames since refined."""

    raw: Box
    region: Box
    age: int


def carry(region: Box, old: Box, new: Box) -> Box:
    """`region` (refined from the learned box `old`) moved and scaled as `old` became `new`."""
    fx, fy = new.w / max(old.w, 1), new.h / max(old.h, 1)
    return Box(
        int(round(new.x + (region.x - old.x) * fx)),
        int(round(new.y + (region.y - old.y) * fy)),
        max(1, int(round(region.w * fx))),
        max(1, int(round(region.h * fy))),
    )


def box_region(box: Box, score: float) -> PlateRegion:
    """A carried box as a region to sort (followed, covered, at the edge): no crop, not readable."""
    x0, y0, x1, y1 = float(box.x), float(box.y), float(box.x2), float(box.y2)
    return PlateRegion(box, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), np.zeros((0, 0), np.uint8), score)


@dataclass(frozen=True)
class FrameWork:
    """What one frame cost in plates: detected regions, and of them read, followed and covered."""

    regions: int = 0
    read: int = 0
    followed: int = 0
    covered: int = 0
    edge: int = 0
    still: int = 0


def inside_fraction(a: Box, b: Box) -> float:
    """Share of `a`'s area lying inside `b`."""
    ix = max(0, min(a.x2, b.x2) - max(a.x, b.x))
    iy = max(0, min(a.y2, b.y2) - max(a.y, b.y))
    return ix * iy / a.area if a.area else 0.0


def at_edge(box: Box, frame_hw: tuple[int, int], margin: int) -> bool:
    """Does the box touch the frame's border (within `margin` pixels)? Never with margin < 0."""
    h, w = frame_hw
    return margin >= 0 and (
        box.x <= margin or box.y <= margin or box.x2 >= w - margin or box.y2 >= h - margin
    )


def covers(anchor: Box, r: Box, inside: float, p: RankParams = RANK) -> bool:
    """Is `r` part of the plate boxed by `anchor`: mostly inside it, or shorter lettering beside it
    (a state name, a slogan: rank.py drops such a read when the plate is read in the same frame)?"""
    if inside > 0 and inside_fraction(r, anchor) >= inside:
        return True
    return anchor.h > p.taller * r.h and beside(r, anchor, p.beside_gap)


def split_regions(
    regions: Sequence[PlateRegion],
    settled: Sequence[tuple[int, Box]],
    cfg: TrackerConfig,
    frame_hw: tuple[int, int],
) -> tuple[list[PlateRegion], list[tuple[int, Box]], int, int]:
    """(regions to read, (track id, box) of settled tracks seen again, covered, cut by the edge).

    Each settled track takes the region overlapping its last box most (at least `follow_iou`); a
    region touching the frame border is a plate cut by it; a region that is part of a followed or
    cut plate (`covers`) is not read either."""
    pairs = sorted(
        ((r.box.iou(box), i, tid) for i, r in enumerate(regions) for tid, box in settled),
        key=lambda p: -p[0],
    )
    taken: dict[int, int] = {}  # region index -> track id
    for iou, i, tid in pairs:
        if iou >= cfg.follow_iou and i not in taken and tid not in taken.values():
            taken[i] = tid
    followed = [(tid, regions[i].box) for i, tid in taken.items()]
    rest = [r for i, r in enumerate(regions) if i not in taken]
    cut = [r.box for r in rest if at_edge(r.box, frame_hw, cfg.edge_px)]
    anchors = [b for _t, b in followed] + cut
    to_read = [
        r for r in rest if r.box not in cut and not any(covers(a, r.box, cfg.nested_inside) for a in anchors)
    ]
    return to_read, followed, len(rest) - len(cut) - len(to_read), len(cut)


class FrameReader(Protocol):
    """Any reader of whole frames (tests stub this one)."""

    def read_frame(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRead]: ...


class Follower:
    """Detect, follow the settled tracks' plates, read the rest (see the module docstring); with
    `tracker.follow` off, or a reader without `detect`, every frame is read whole (`read_frame`)."""

    def __init__(
        self,
        reader: FrameReader,
        tracker: PlateTracker,
        cfg: TrackerConfig,
        votable: Callable[[PlateRead], bool] = lambda r: True,
    ) -> None:
        self.frames = reader
        self.votable = votable  # reads the tracker takes (the daemon's confidence and length limits)
        self.reader = reader if isinstance(reader, RegionReader) else None
        self.enabled = cfg.follow and self.reader is not None
        self.tracker = tracker
        self.cfg = cfg
        self._barren: list[tuple[Box, float]] = []  # still regions read without a plate, until when
        # the learned detector in two steps (checked once: a protocol check is not free per frame)
        self.proposer = reader if self.reader is not None and isinstance(reader, ProposalReader) else None
        self._carried: list[Carried] = []  # last frame's learned boxes and their refined regions

    def reads(
        self,
        image: np.ndarray,
        lores: np.ndarray | None,
        now: float,
        moved: Callable[[Box], bool] | None = None,
    ) -> tuple[list[PlateRead], FrameWork | None]:
        """This frame's reads for the tracker (settled tracks already moved to their new boxes)."""
        if not self.enabled or self.reader is None:
            return self.frames.read_frame(image, lores), None
        p = self.proposer
        proposed = p.propose(image, lores) if p is not None else None
        if p is None or proposed is None:
            regions = self.reader.detect(image, lores)
        else:
            regions = self._regions(p, image, lores, proposed)
        settled = self.tracker.settled(self.cfg.follow_after)
        hw = (int(image.shape[0]), int(image.shape[1]))
        to_read, seen, covered, cut = split_regions(regions, settled, self.cfg, hw)
        self.tracker.follow(seen, now, moved)
        fresh = self._not_barren(to_read, now, moved)
        if p is not None and proposed is not None:
            fresh = self._refined(p, image, lores, proposed, regions, fresh)
        reads = self.reader.read_regions(image, fresh) if fresh else []
        self._remember_barren(fresh, reads, now)
        still = len(to_read) - len(fresh)
        return reads, FrameWork(len(regions), len(fresh), len(seen), covered, cut, still)

    @property
    def two_step(self) -> bool:
        return self.proposer is not None

    def _regions(
        self, reader: ProposalReader, image: np.ndarray, lores: np.ndarray | None, proposed: list[Proposed]
    ) -> list[PlateRegion]:
        """This frame's regions from the learned boxes: a box that is last frame's one moved
        (`SAME_IOU`) carries that box's refined region along, without a crop; the others are
        refined now. Only carried regions that are then read get refined (`_refined`): so a
        followed plate or a lettered sign costs the network pass, not the row search."""
        old, used = self._carried, set()
        plan: list[Carried | None] = []
        for p in proposed:
            best = max(
                (k for k in range(len(old)) if k not in used and old[k].age < REFRESH_FRAMES),
                key=lambda k: p.box.iou(old[k].raw),
                default=None,
            )
            if best is not None and p.box.iou(old[best].raw) >= SAME_IOU:
                used.add(best)
                plan.append(old[best])
            else:
                plan.append(None)
        new = iter(reader.refine(image, [p for p, c in zip(proposed, plan, strict=True) if c is None], lores))
        regions = [
            next(new) if c is None else box_region(carry(c.region, c.raw, p.box), p.score)
            for p, c in zip(proposed, plan, strict=True)
        ]
        self._carried = [
            Carried(p.box, r.box, 0 if c is None else c.age + 1)
            for p, c, r in zip(proposed, plan, regions, strict=True)
        ]
        return regions

    def _refined(
        self,
        reader: ProposalReader,
        image: np.ndarray,
        lores: np.ndarray | None,
        proposed: list[Proposed],
        regions: list[PlateRegion],
        fresh: list[PlateRegion],
    ) -> list[PlateRegion]:
        """The regions to read, the carried ones (no crop) refined now from their learned boxes."""
        index = {id(r): i for i, r in enumerate(regions)}
        todo = [index[id(r)] for r in fresh if r.crop.size == 0]
        if not todo:
            return fresh
        done = dict(zip(todo, reader.refine(image, [proposed[i] for i in todo], lores), strict=True))
        for i, r in done.items():
            self._carried[i] = Carried(self._carried[i].raw, r.box, 0)
        return [done.get(index[id(r)], r) for r in fresh]

    def _not_barren(
        self, regions: list[PlateRegion], now: float, moved: Callable[[Box], bool] | None
    ) -> list[PlateRegion]:
        """Regions to read: all but those still where a read found no plate less than recheck_s ago
        (texture the line finder proposes every frame: read once a second, not 30 times)."""
        self._barren = [(b, until) for b, until in self._barren if until > now]
        if moved is None or not self._barren:
            return regions
        return [
            r for r in regions if moved(r.box) or not any(r.box.iou(b) >= STILL_IOU for b, _ in self._barren)
        ]

    def _remember_barren(self, regions: list[PlateRegion], reads: list[PlateRead], now: float) -> None:
        if self.cfg.recheck_s <= 0:
            return
        for r in regions:
            if not any(r.box.iou(x.box) >= STILL_IOU and self.votable(x) for x in reads):
                self._barren.append((r.box, now + self.cfg.recheck_s))
