"""PlateTracker: turn per-frame reads into one event per vehicle.

One frame's read is noisy (a blurred character, a bolt read as a letter); a vehicle is in view for
many frames. Reads are associated across frames by box overlap / distance and by edit distance of
the text, each character position is voted on (weighted by confidence), and `new` is emitted only
once every position has `min_frames` agreeing reads. `update` follows when the consensus changes
or its confidence improves, `end` when the vehicle has not been seen for `end_after_s`. A plate
that ended less than `cooldown_s` ago (a parked car flickering in and out) does not emit again.
Time comes from the frames' timestamps (or the caller), never from a clock read here.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from edge_ocr.daemon.config import TrackerConfig
from edge_ocr.daemon.known import KnownPlates
from edge_ocr.types import Box, PlateCandidate, PlateEvent, PlateRead, edit_distance

__all__ = ["KnownPlates", "PlateTracker", "drop_nested", "edit_distance"]


def drop_nested(reads: list[PlateRead], inside: float) -> list[PlateRead]:
    """Drop reads lying mostly inside a larger read's box: the state name or slogan printed on a
    plate is text too, but one plate carries one registration."""
    if inside <= 0:
        return reads
    kept: list[PlateRead] = []
    for r in sorted(reads, key=lambda r: -r.box.area):
        if not any(_inside_fraction(r.box, k.box) >= inside for k in kept):
            kept.append(r)
    return kept


def _inside_fraction(a: Box, b: Box) -> float:
    ix = max(0, min(a.x2, b.x2) - max(a.x, b.x))
    iy = max(0, min(a.y2, b.y2) - max(a.y, b.y))
    return ix * iy / a.area if a.area else 0.0


def _same_plate(a: str, b: str) -> bool:
    """One character off, or one read is a part of the other (a plate cut by the frame edge)."""
    return edit_distance(a, b) <= 1 or (min(len(a), len(b)) >= 3 and (a in b or b in a))


@dataclass
class _Track:
    id: int
    box: Box
    first_seen: float
    last_seen: float
    region: str = ""
    reads: int = 0
    lengths: Counter[int] = field(default_factory=Counter)
    texts: Counter[str] = field(default_factory=Counter)
    # votes[length][position][char] = summed confidence; counts[...] = number of reads
    votes: dict[int, list[dict[str, float]]] = field(default_factory=dict)
    counts: dict[int, list[Counter[str]]] = field(default_factory=dict)
    emitted: bool = False
    moved: bool = False  # some read of it showed motion inside its box
    suppressed: bool = False
    last_plate: str = ""
    last_conf: float = 0.0
    agree: int = 0  # reads in a row, after `new`, whose vote was the plate reported
    followed: int = 0  # frames it was seen (detected) but not read, its vote being settled
    first_box: Box | None = None

    def add(self, read: PlateRead, now: float) -> None:
        self.box, self.last_seen, self.region = read.box, now, read.region or self.region
        self.reads += 1
        n = len(read.plate)
        self.lengths[n] += 1
        self.texts[read.plate] += 1
        votes = self.votes.setdefault(n, [{} for _ in range(n)])
        counts = self.counts.setdefault(n, [Counter() for _ in range(n)])
        confs = [c.confidence for c in read.chars] if len(read.chars) == n else [read.confidence] * n
        for i, ch in enumerate(read.plate):
            votes[i][ch] = votes[i].get(ch, 0.0) + max(float(confs[i]), 1e-3)
            counts[i][ch] += 1

    def consensus(self) -> tuple[str, float, int]:
        """(plate, confidence, support): support is the weakest position's agreeing-read count."""
        if not self.lengths:
            return "", 0.0, 0
        n = self.lengths.most_common(1)[0][0]
        chars, confs, support = [], [], self.reads
        for pos_votes, pos_counts in zip(self.votes[n], self.counts[n], strict=True):
            ch, weight = max(pos_votes.items(), key=lambda kv: (kv[1], kv[0]))
            chars.append(ch)
            confs.append(weight / sum(pos_votes.values()) * weight / pos_counts[ch])
            support = min(support, pos_counts[ch])
        return "".join(chars), sum(confs) / max(1, len(confs)), support


def _drifted(t: _Track) -> bool:
    """The box itself travelled half its height since the first read: motion, even where the gate's
    small difference image misses it (a plate on a car of its own colour changes few pixels)."""
    (x0, y0), (x1, y1) = (t.first_box or t.box).center, t.box.center
    return ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 >= 0.5 * t.box.h


class PlateTracker:
    def __init__(
        self,
        config: TrackerConfig,
        camera: str = "cam0",
        known: KnownPlates | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.cfg = config
        self.camera = camera
        self.known = known
        self._new_id = new_id
        self._tracks: list[_Track] = []
        self._next_track = 1
        self._recent: dict[str, float] = {}  # plate -> when its vehicle was last seen
        self._last_update = float("-inf")  # time of the last processed frame
        self.suppressed = 0

    @property
    def active(self) -> int:
        return len(self._tracks)

    def update(
        self, reads: Iterable[PlateRead], now: float, moved: Callable[[Box], bool] | None = None
    ) -> list[PlateEvent]:
        """Feed one frame's reads (possibly none) seen at time `now`; returns the events it caused.

        `moved(box)` says whether the frame changed inside a read's box; with
        `require_motion`, a track whose reads never moved (text on the scenery) emits nothing.
        """
        events: list[PlateEvent] = []
        self._last_update = now
        kept = drop_nested([r for r in reads if r.plate], self.cfg.nested_inside)
        touched = self._associate(kept, now)
        for track in touched:
            track.moved = track.moved or moved is None or moved(track.box) or _drifted(track)
        for track in touched:
            events.extend(self._check(track, now))
        events.extend(self._expire(now))
        return events

    def settled(self, after: int) -> list[tuple[int, Box]]:
        """(id, box) of tracks that reading again cannot change: reported and then `after` more
        reads agreed with the plate reported, suppressed as a repeat, or (with require_motion) read
        `min_frames` times without ever moving: text on the scenery. The daemon follows them unread."""
        static = self.cfg.require_motion
        return [
            (t.id, t.box)
            for t in self._tracks
            if t.suppressed
            or (t.emitted and t.agree >= after)
            or (static and not t.moved and t.reads >= self.cfg.min_frames)
        ]

    def follow(
        self, seen: Iterable[tuple[int, Box]], now: float, moved: Callable[[Box], bool] | None = None
    ) -> None:
        """Settled tracks seen again at these boxes (detected, not read): they stay alive and move.
        A still one that moves now (a parked car leaving) is read again from the next frame."""
        boxes = dict(seen)
        for track in self._tracks:
            if track.id in boxes:
                track.box, track.last_seen = boxes[track.id], now
                track.followed += 1
                track.moved = track.moved or (moved is not None and moved(track.box)) or _drifted(track)

    def unchanged(self, now: float) -> list[PlateEvent]:
        """The motion gate saw no change since the last processed frame: what was in view then is
        still in view (a parked car stays one track without re-reading it); the rest ages out."""
        for track in self._tracks:
            if track.last_seen >= self._last_update:
                track.last_seen = now
        self._last_update = now
        return self._expire(now)

    def flush(self, now: float) -> list[PlateEvent]:
        """End every track (shutdown, end of a video)."""
        events = [e for t in self._tracks if (e := self._end_event(t, now)) is not None]
        self._tracks = []
        return events

    def _associate(self, reads: list[PlateRead], now: float) -> list[_Track]:
        pairs = []
        for ri, read in enumerate(reads):
            for ti, track in enumerate(self._tracks):
                score = self._match_score(track, read)
                if score is not None:
                    pairs.append((score, ri, ti))
        used_r: set[int] = set()
        used_t: set[int] = set()
        touched: list[_Track] = []
        for _score, ri, ti in sorted(pairs, reverse=True):
            if ri in used_r or ti in used_t:
                continue
            used_r.add(ri)
            used_t.add(ti)
            self._tracks[ti].add(reads[ri], now)
            touched.append(self._tracks[ti])
        for ri, read in enumerate(reads):
            if ri not in used_r:
                track = _Track(self._next_track, read.box, now, now, first_box=read.box)
                self._next_track += 1
                track.add(read, now)
                self._tracks.append(track)
                touched.append(track)
        return touched

    def _match_score(self, track: _Track, read: PlateRead) -> float | None:
        iou = track.box.iou(read.box)
        (tx, ty), (rx, ry) = track.box.center, read.box.center
        dist = ((tx - rx) ** 2 + (ty - ry) ** 2) ** 0.5
        if iou < self.cfg.iou_threshold and dist > self.cfg.max_distance_px:
            return None
        text = track.consensus()[0]
        d = edit_distance(text, read.plate)
        if d > self.cfg.max_edit_distance:
            return None
        return iou + 1.0 - d / max(1, len(text)) - dist / max(1.0, self.cfg.max_distance_px + 1.0)

    def _check(self, track: _Track, now: float) -> list[PlateEvent]:
        plate, conf, support = track.consensus()
        track.agree = track.agree + 1 if track.emitted and plate == track.last_plate else 0
        if track.suppressed or support < self.cfg.min_frames or (self.cfg.require_motion and not track.moved):
            return []
        if not track.emitted:
            if self._is_repeat(track, plate, now):
                track.suppressed = True
                self.suppressed += 1
                return []
            track.emitted = True
            return [self._event("new", track, plate, conf, now)]
        if plate != track.last_plate or conf >= track.last_conf + self.cfg.update_min_gain:
            return [self._event("update", track, plate, conf, now)]
        return []

    def _is_repeat(self, track: _Track, plate: str, now: float) -> bool:
        """A parked car that reappears, or a second track of a vehicle already reported."""
        for other in self._tracks:
            if (
                other is not track
                and other.emitted
                and not other.suppressed
                and _same_plate(other.last_plate, plate)
            ):
                return True
        for old, seen in self._recent.items():
            if now - seen <= self.cfg.cooldown_s and _same_plate(old, plate):
                return True
        return False

    def _expire(self, now: float) -> list[PlateEvent]:
        events: list[PlateEvent] = []
        keep: list[_Track] = []
        for track in self._tracks:
            if now - track.last_seen > self.cfg.end_after_s:
                event = self._end_event(track, now)
                if event is not None:
                    events.append(event)
            else:
                keep.append(track)
        self._tracks = keep
        self._recent = {p: t for p, t in self._recent.items() if now - t <= self.cfg.cooldown_s}
        return events

    def _end_event(self, track: _Track, now: float) -> PlateEvent | None:
        plate = track.last_plate if track.emitted else track.consensus()[0]
        if track.emitted or track.suppressed:
            self._recent[plate] = max(self._recent.get(plate, track.last_seen), track.last_seen)
        if not track.emitted or track.suppressed:
            return None
        return self._event("end", track, track.last_plate, track.last_conf, now)

    def _event(self, kind: str, track: _Track, plate: str, conf: float, now: float) -> PlateEvent:
        if kind != "end":
            track.last_plate, track.last_conf = plate, conf
        total = sum(track.texts.values())
        candidates = tuple(
            PlateCandidate(text, round(count / total, 4)) for text, count in track.texts.most_common(3)
        )
        return PlateEvent(
            kind=kind,
            event_id=self._new_id(),
            camera=self.camera,
            track_id=track.id,
            plate=plate,
            confidence=round(conf, 4),
            timestamp=now,
            first_seen=track.first_seen,
            last_seen=track.last_seen,
            frames=track.reads,
            box=track.box,
            candidates=candidates,
            region=track.region,
            known=self.known.match(plate) if self.known else None,
        )
