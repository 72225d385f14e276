"""Work per frame that follows what is new (daemon/follow.py) and the Reader's two-step API."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_daemon import folder_with_frames, plate_read

from edge_ocr.daemon.config import Config, DaemonConfig, LogConfig, SourceConfig, TrackerConfig
from edge_ocr.daemon.follow import (
    REFRESH_FRAMES,
    Follower,
    FrameWork,
    RegionReader,
    at_edge,
    carry,
    split_regions,
)
from edge_ocr.daemon.notify import Notifier
from edge_ocr.daemon.runner import Runner
from edge_ocr.daemon.sinks.log import JsonLinesSink
from edge_ocr.daemon.sources import make_source
from edge_ocr.daemon.track import PlateTracker
from edge_ocr.reader.pipeline import Proposed, Reader
from edge_ocr.synth import render_plate, render_scene
from edge_ocr.types import Box, PlateRead, PlateRegion


def region(x: int, y: int = 50, w: int = 100, h: int = 25) -> PlateRegion:
    c = ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
    return PlateRegion(Box(x, y, w, h), c, np.zeros((h, w), np.uint8))


def test_read_frame_is_detect_then_read_regions(plate_model_dir: Path) -> None:
    rng = np.random.default_rng(7)
    plates = [render_plate(t, rng, style="us", height=120) for t in ("KTR4829", "HWP7316")]
    scene = render_scene(plates, rng, size=(1280, 720))
    small = cv2.resize(
        cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY), (640, 360), interpolation=cv2.INTER_AREA
    )
    reader = Reader(plate_model_dir, region="us", detector="lines")
    for lores in (None, small):
        whole = reader.read_frame(scene.image, lores)
        regions = reader.detect(scene.image, lores)
        assert reader.last_timings["detect"] > 0 and reader.last_timings["classify"] == 0
        parts = reader.read_regions(scene.image, regions)
        assert [(r.plate, r.box, r.confidence) for r in parts] == [
            (r.plate, r.box, r.confidence) for r in whole
        ]
        assert {"KTR4829", "HWP7316"} <= {r.plate for r in whole}
        assert all(r.box.x2 <= 1280 and r.box.y2 <= 720 for r in regions)  # frame pixels, not lores
    assert reader.read_regions(scene.image, []) == []


def test_split_regions_follows_settled_boxes_and_covers_nested_text() -> None:
    cfg, hw = TrackerConfig(follow_iou=0.3, nested_inside=0.6), (720, 1280)
    plate, slogan, other = region(100, 50, 200, 60), region(120, 90, 80, 15), region(600)
    moved = region(110, 52, 200, 60)  # the settled plate one frame later
    to_read, seen, covered, cut = split_regions([moved, slogan, other], [(7, plate.box)], cfg, hw)
    assert seen == [(7, moved.box)] and covered == 1 and cut == 0 and to_read == [other]
    to_read, seen, covered, cut = split_regions([region(400)], [(7, plate.box)], cfg, hw)
    assert seen == [] and covered == 0 and len(to_read) == 1  # gone elsewhere: read, never guessed
    assert split_regions([plate], [], cfg, hw)[0] == [plate]


def test_lettering_beside_a_followed_or_cut_plate_is_not_read_alone() -> None:
    """A state name above the plate's row ('OHIO'): read in the same frame as the plate, rank.py
    drops it; with the plate followed (or cut by the edge) it must not be read alone."""
    cfg, hw = TrackerConfig(), (720, 1280)
    row, state = region(500, 400, 150, 40), region(540, 370, 70, 18)
    to_read, seen, covered, cut = split_regions([row, state], [(3, row.box)], cfg, hw)
    assert seen == [(3, row.box)] and covered == 1 and to_read == []
    cut_row, cut_state = region(0, 400, 150, 40), region(30, 370, 70, 18)  # arriving at the left edge
    to_read, seen, covered, cut = split_regions([cut_row, cut_state], [], cfg, hw)
    assert cut == 1 and covered == 1 and to_read == []
    lane2 = region(500, 600, 150, 40)  # another vehicle's plate below: read
    assert split_regions([row, lane2], [(3, row.box)], cfg, hw)[0] == [lane2]


def test_plates_cut_by_the_frame_border_are_counted_not_read() -> None:
    assert at_edge(Box(0, 300, 80, 40), (720, 1280), 2) and at_edge(Box(1200, 300, 79, 40), (720, 1280), 2)
    assert not at_edge(Box(3, 300, 80, 40), (720, 1280), 2)
    assert not at_edge(Box(0, 300, 80, 40), (720, 1280), -1)  # -1: read them too

    class Edge(RegionStub):
        def detect(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRegion]:
            return [region(0, 50, 100, 25), region(400, 50, 100, 25)]

    reader = Edge()
    follower = Follower(reader, PlateTracker(TrackerConfig()), TrackerConfig(edge_px=2))
    reads, work = follower.reads(np.zeros((720, 1280, 3), np.uint8), None, 0.0)
    assert work == FrameWork(regions=2, read=1, followed=0, covered=0, edge=1) and reader.read_counts == [1]


def test_still_texture_without_a_plate_is_read_once_per_recheck_s() -> None:
    class Texture(RegionStub):
        def detect(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRegion]:
            return [region(400, 50, 100, 25)]

        def read_regions(self, image: np.ndarray, regions: Sequence[PlateRegion]) -> list[PlateRead]:
            self.read_counts.append(len(regions))
            return []  # bars, bricks: no plate

    reader = Texture()
    follower = Follower(reader, PlateTracker(TrackerConfig()), TrackerConfig(recheck_s=1.0))
    frame = np.zeros((720, 1280, 3), np.uint8)
    works = [follower.reads(frame, None, t / 10, lambda b: False)[1] for t in range(25)]
    assert reader.read_counts == [1, 1, 1]  # at 0.0, 1.0 and 2.0 s, not 25 times
    assert sum(w.still for w in works if w) == 22
    follower.reads(frame, None, 2.6, lambda b: True)  # it moves: read at once
    assert reader.read_counts == [1, 1, 1, 1]
    assert (
        follower.reads(frame, None, 2.7, None)[1] is not None and reader.read_counts[-1] == 1
    )  # no gate: read


def test_tracker_settles_after_new_and_agreeing_reads_then_follows() -> None:
    tracker = PlateTracker(TrackerConfig(min_frames=2, require_motion=False, end_after_s=0.5))
    assert tracker.settled(1) == []
    assert tracker.update([plate_read("ABC123", 100)], 0.0) == []
    assert [e.kind for e in tracker.update([plate_read("ABC123", 104)], 0.1)] == ["new"]
    assert tracker.settled(0) and not tracker.settled(1)  # reported, not yet confirmed
    tracker.update([plate_read("ABC123", 108)], 0.2)
    ((tid, box),) = tracker.settled(1)
    assert box.x == 108
    tracker.follow([(tid, Box(300, 50, 100, 25))], 0.6)
    assert tracker.update([], 0.9) == []  # followed at 0.6: still alive at 0.9 (end_after 0.5)
    assert tracker.settled(1)[0][1].x == 300
    assert [e.kind for e in tracker.update([], 1.2)] == ["end"]


def test_text_on_the_scenery_is_followed_until_it_moves() -> None:
    tracker = PlateTracker(TrackerConfig(min_frames=2, require_motion=True))
    still = lambda b: False  # noqa: E731
    for t in (0.0, 0.1):
        assert tracker.update([plate_read("SHOP24", 500)], t, still) == []
    ((tid, _box),) = tracker.settled(1)  # read twice, never moved: a sign, not read again
    tracker.follow([(tid, Box(500, 50, 100, 25))], 0.2, still)
    assert tracker.settled(1)
    tracker.follow([(tid, Box(520, 50, 100, 25))], 0.3, lambda b: True)  # a parked car leaves
    assert tracker.settled(1) == []  # read again from the next frame
    assert [e.kind for e in tracker.update([plate_read("SHOP24", 540)], 0.4, lambda b: True)] == ["new"]


def test_a_box_that_travels_is_motion_even_when_the_gate_sees_none() -> None:
    """A plate on a car of its own colour changes few pixels of the gate's small image."""
    tracker = PlateTracker(TrackerConfig(min_frames=2, require_motion=True))
    never = lambda b: False  # noqa: E731
    assert tracker.update([plate_read("ABC123", 100)], 0.0, never) == []
    assert tracker.update([plate_read("ABC123", 105)], 0.1, never) == []  # 5 px: jitter, not motion
    assert [e.kind for e in tracker.update([plate_read("ABC123", 115)], 0.2, never)] == ["new"]  # 15 px


class RegionStub:
    """Detects one plate per frame at x = the frame's mean grey; reads it as ABC123."""

    def __init__(self) -> None:
        self.last_timings: dict[str, float] = {}
        self.read_counts: list[int] = []

    def read_frame(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRead]:
        raise AssertionError("a RegionReader is driven through detect + read_regions")

    def detect(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRegion]:
        self.last_timings = {"detect": 1.0}
        return [region(int(image.mean()))]

    def read_regions(self, image: np.ndarray, regions: Sequence[PlateRegion]) -> list[PlateRead]:
        self.read_counts.append(len(regions))
        return [plate_read("ABC123", r.box.x) for r in regions]


def test_runner_reads_until_settled_then_follows_and_traces_every_frame(tmp_path: Path) -> None:
    folder = folder_with_frames(tmp_path / "frames", 12, corrupt=(4,))
    reader = RegionStub()
    assert isinstance(reader, RegionReader)
    cfg = Config(
        source=SourceConfig(kind="folder", uri=str(folder), camera="t", fps=10.0),
        tracker=TrackerConfig(
            min_frames=2, end_after_s=0.5, require_motion=False, follow_after=1, edge_px=-1
        ),
        log=LogConfig(path=str(tmp_path / "events.jsonl"), stats=True),
        daemon=DaemonConfig(idle_timeout_s=0.05, stats_interval_s=60.0, trace=str(tmp_path / "trace.csv")),
    )
    sink = JsonLinesSink(cfg.log.path, cfg.log.kinds, stats=True)
    runner = Runner(cfg, reader, make_source(cfg.source), [sink], Notifier({}))
    assert isinstance(runner.follower, Follower) and runner.follower.enabled
    assert runner.run() == 0
    assert reader.read_counts == [1, 1, 1]  # read twice for `new`, once to confirm, then followed
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [(e["kind"], e["plate"]) for e in lines if e.get("schema") == "edge_ocr.event/1"] == [
        ("new", "ABC123"),
        ("end", "ABC123"),
    ]
    stats = [x for x in lines if x.get("schema") == "edge_ocr.stats/1"][-1]
    assert stats["frames_out"] == 11 and stats["plates_read"] == 3 and stats["plates_followed"] == 8
    assert stats["peak_rss_mb"] > 0 and stats["cpu_s"] > 0 and "cpu" in stats["stage_ms"]
    with open(tmp_path / "trace.csv", encoding="ascii") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 11 and {r["status"] for r in rows} == {"processed"}  # the corrupt file: source bad
    assert [int(r["read"]) for r in rows] == [1, 1, 1] + [0] * 8
    assert all(float(r["cpu_ms"]) >= 0 for r in rows)


def test_follow_off_reads_every_frame(tmp_path: Path) -> None:
    folder = folder_with_frames(tmp_path / "frames", 6)
    reader = RegionStub()
    cfg = Config(
        source=SourceConfig(kind="folder", uri=str(folder), camera="t", fps=10.0),
        tracker=TrackerConfig(min_frames=2, require_motion=False, follow=False),
        log=LogConfig(path=str(tmp_path / "events.jsonl")),
        daemon=DaemonConfig(idle_timeout_s=0.05),
    )
    reader.read_frame = lambda image, detect_image=None: [plate_read("ABC123", 10)]  # type: ignore[method-assign]
    runner = Runner(cfg, reader, make_source(cfg.source), [JsonLinesSink(cfg.log.path)], Notifier({}))
    assert not runner.follower.enabled and runner.run() == 0 and reader.read_counts == []


def test_malloc_tuning_on_glibc() -> None:
    import platform

    from edge_ocr.daemon.memory import trim, tune_malloc

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert tune_malloc(arenas=2)
    trim()


def test_propose_then_refine_is_detect(plate_model_dir: Path) -> None:
    """The learned detector in two steps gives the regions of `detect`; the line finder has no
    cheaper first step (propose: None)."""
    rng = np.random.default_rng(3)
    plates = [render_plate(t, rng, style="us", height=110) for t in ("KTR4829", "HWP7316")]
    scene = render_scene(plates, rng, size=(1280, 720))
    small = cv2.resize(scene.image, (640, 360), interpolation=cv2.INTER_AREA)
    reader = Reader(plate_model_dir, region="us", detector="cnn")
    for lores in (None, small):
        whole = reader.detect(scene.image, lores)
        proposed = reader.propose(scene.image, lores)
        assert proposed is not None and len(proposed) == len(whole) >= 1
        assert all(p.box.x2 <= 1280 and p.box.y2 <= 720 for p in proposed)  # frame pixels
        parts = reader.refine(scene.image, proposed, lores)
        assert [(r.box, r.corners, r.crop.shape) for r in parts] == [
            (r.box, r.corners, r.crop.shape) for r in whole
        ]
        assert reader.last_timings["detect"] > 0
    assert Reader(plate_model_dir, detector="lines").propose(scene.image) is None


class TwoStepStub(RegionStub):
    """One learned box per frame at x = the frame's mean grey; its row lies 5 px inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.refined: list[int] = []  # x of every box refined

    def propose(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[Proposed]:
        x = int(image.mean())
        return [Proposed(Box(x, 45, 110, 35), 0.9, x)]

    def refine(
        self, image: np.ndarray, proposed: Sequence[Proposed], detect_image: np.ndarray | None = None
    ) -> list[PlateRegion]:
        self.refined.extend(p.raw for p in proposed)
        return [region(p.box.x + 5, 50, 100, 25) for p in proposed]


def test_followed_plates_are_carried_not_refined() -> None:
    """A settled plate's learned box is carried from frame to frame (its row moved with it) and only
    refined again every REFRESH_FRAMES; the row a read needs is always refined."""
    reader = TwoStepStub()
    tracker = PlateTracker(TrackerConfig(min_frames=2, require_motion=False, end_after_s=5.0))
    follower = Follower(reader, tracker, TrackerConfig(follow_after=1, edge_px=-1))
    assert follower.two_step
    works = []
    for i in range(40):
        frame = np.full((720, 1280, 3), 100 + 3 * i, np.uint8)  # the plate moves 3 px per frame
        reads, work = follower.reads(frame, None, i / 30)
        tracker.update(reads, i / 30)
        works.append(work)
    assert reader.read_counts == [1, 1, 1]  # read until settled (new + one agreeing read)
    assert reader.refined[:3] == [100, 103, 106]  # every box that was read was refined first
    # then followed: refined once when the carried box is REFRESH_FRAMES old, not 37 times
    assert len(reader.refined) == 3 + 37 // (REFRESH_FRAMES + 1)
    assert sum(w.followed for w in works if w) == 37
    ((_tid, box),) = tracker.settled(1)
    assert box == Box(100 + 3 * 39 + 5, 50, 100, 25)  # the row carried along: x of the last box + 5


def test_carry_moves_and_scales_the_row_with_its_box() -> None:
    assert carry(Box(105, 50, 100, 25), Box(100, 45, 110, 35), Box(120, 45, 110, 35)) == Box(125, 50, 100, 25)
    assert carry(Box(105, 50, 100, 25), Box(100, 45, 110, 35), Box(100, 45, 220, 70)) == Box(110, 55, 200, 50)


def test_auto_is_the_learned_detector_when_installed(
    plate_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_ocr.reader.detect import resolve
    from edge_ocr.reader.detect.lines import CharLineDetector
    from edge_ocr.reader.detect.refine import CnnLineDetector

    assert resolve("auto") == "cnn"  # the shipped models/plate-detector
    assert resolve("lines") == "lines" and resolve("cnn") == "cnn"
    reader = Reader(plate_model_dir)  # photos (`edge-ocr read`) too, since session 15
    assert reader.detector_name == "cnn" and isinstance(reader._the_detector(), CnnLineDetector)
    monkeypatch.setenv("EDGE_OCR_MODELS", str(tmp_path))  # a models folder without the detector
    assert resolve("auto") == "lines"
    assert isinstance(Reader(plate_model_dir)._the_detector(), CharLineDetector)
