from __future__ import annotations

import itertools

from edge_ocr.daemon.config import TrackerConfig
from edge_ocr.daemon.track import KnownPlates, PlateTracker, edit_distance
from edge_ocr.types import Box, CharPrediction, PlateRead


def read(plate: str, x: int = 100, y: int = 300, conf: float = 0.9) -> PlateRead:
    chars = tuple(CharPrediction(c, conf, Box(x + 10 * i, y, 9, 20)) for i, c in enumerate(plate))
    corners = ((x, y), (x + 120, y), (x + 120, y + 30), (x, y + 30))
    return PlateRead(plate, conf, "us", True, Box(x, y, 120, 30), corners, (), chars)


def tracker(**kw: float) -> PlateTracker:
    ids = itertools.count(1)
    return PlateTracker(TrackerConfig(**kw), "cam", new_id=lambda: f"e{next(ids)}")  # type: ignore[arg-type]


def run(t: PlateTracker, frames: list[list[PlateRead]], dt: float = 0.1, t0: float = 0.0):  # type: ignore[no-untyped-def]
    events = []
    for i, reads in enumerate(frames):
        events += t.update(reads, t0 + i * dt)
    return events


def test_edit_distance() -> None:
    assert edit_distance("ABC123", "ABC123") == 0
    assert edit_distance("ABC123", "A8C123") == 1
    assert edit_distance("ABC123", "ABC12") == 1
    assert edit_distance("", "AB") == 2


def test_new_after_min_frames_with_per_position_vote() -> None:
    t = tracker(min_frames=3)
    # each frame has one different wrong character, yet every position has >= 3 agreeing reads
    frames = [[read("ABC1234", x=100 + 20 * i)] for i in range(2)]
    frames += [[read("A8C1234", x=140)], [read("ABC1Z34", x=160)], [read("ABC1234", x=180)]]
    events = run(t, frames)
    news = [e for e in events if e.kind == "new"]
    assert len(news) == 1 and news[0].plate == "ABC1234"
    assert news[0].event_id == "e1" and news[0].camera == "cam"
    # no event before the 3rd agreeing read of every position
    assert run(tracker(min_frames=3), frames[:2]) == []


def test_end_when_gone_and_one_event_per_vehicle() -> None:
    t = tracker(min_frames=2, end_after_s=0.5)
    frames = [[read("XYZ987", x=100 + 30 * i)] for i in range(8)] + [[] for _ in range(10)]
    events = run(t, frames)
    assert [e.kind for e in events] == ["new", "end"]
    assert events[1].plate == "XYZ987" and events[1].track_id == events[0].track_id
    assert events[1].frames == 8


def test_two_vehicles_in_one_frame() -> None:
    t = tracker(min_frames=2)
    frames = [[read("AAA111", x=100 + 10 * i), read("BBB222", x=800 - 10 * i)] for i in range(4)]
    news = [e for e in run(t, frames) if e.kind == "new"]
    assert sorted(e.plate for e in news) == ["AAA111", "BBB222"]
    assert news[0].track_id != news[1].track_id


def test_far_jump_or_different_text_is_a_new_track() -> None:
    t = tracker(min_frames=1, max_distance_px=100, iou_threshold=0.1)
    events = run(t, [[read("AAA111", x=0)], [read("AAA111", x=900)], [read("QQQ999", x=900)]])
    # the jumped plate is a second track of the same text: suppressed as a duplicate
    assert [e.plate for e in events if e.kind == "new"] == ["AAA111", "QQQ999"]
    assert t.suppressed == 1


def test_cooldown_suppresses_parked_car() -> None:
    t = tracker(min_frames=2, end_after_s=0.5, cooldown_s=10)
    seen = [[read("PARK01")] for _ in range(4)]
    gone = [[] for _ in range(8)]
    events = run(t, seen + gone + seen + gone)
    assert [e.kind for e in events] == ["new", "end"]
    # after the cooldown the same plate counts again
    later = run(t, seen, t0=100.0)
    assert [e.kind for e in later] == ["new"]


def test_update_when_consensus_improves() -> None:
    t = tracker(min_frames=1, update_min_gain=0.05)
    events = run(t, [[read("ABC123", conf=0.5)], [read("ABC123", conf=0.9)], [read("ABC123", conf=0.9)]])
    kinds = [e.kind for e in events]
    assert kinds[0] == "new" and "update" in kinds
    assert events[-1].confidence > events[0].confidence


def test_flush_ends_everything() -> None:
    t = tracker(min_frames=1)
    run(t, [[read("ABC123")]])
    assert [e.kind for e in t.flush(5.0)] == ["end"]
    assert t.active == 0


def test_known_plates_fuzzy() -> None:
    known = KnownPlates(["abc-123", "XYZ999"], max_edit_distance=1)
    assert known.match("ABC123") == "ABC123"
    assert known.match("A8C123") == "ABC123"
    assert known.match("A8C12") is None
    t = PlateTracker(TrackerConfig(min_frames=1), "cam", known=known)
    (event,) = t.update([read("XYZ99")], 0.0)
    assert event.known == "XYZ999"


def test_reads_without_text_are_ignored() -> None:
    assert tracker(min_frames=1).update([read("")], 0.0) == []


def test_partial_plate_track_is_not_a_second_vehicle() -> None:
    t = tracker(min_frames=2, max_distance_px=50)
    frames = [[read("ABC1234", x=400 + 5 * i)] for i in range(3)]
    frames += [[read("ABC1234", x=415), read("C1234", x=1100)] for _ in range(3)]  # far away: its own track
    news = [e for e in run(t, frames) if e.kind == "new"]
    assert [e.plate for e in news] == ["ABC1234"]
    assert t.suppressed == 1


def test_text_inside_a_plate_is_not_a_second_plate() -> None:
    plate = read("KTR4829", x=400)  # box 120 x 30 at (400, 300)
    header = PlateRead("TEXAS", 0.99, "us", True, Box(430, 298, 50, 12), plate.corners, (), ())
    t = tracker(min_frames=2)
    news = [e for e in run(t, [[header, plate]] * 3) if e.kind == "new"]
    assert [e.plate for e in news] == ["KTR4829"]
    keep_all = tracker(min_frames=2, nested_inside=0.0)
    assert len([e for e in run(keep_all, [[header, plate]] * 3) if e.kind == "new"]) == 2


def test_unchanged_scene_keeps_what_was_in_view() -> None:
    t = tracker(min_frames=2, end_after_s=1.0)
    events = run(
        t, [[read("PARK01", x=100), read("GONE22", x=700)], [read("PARK01", x=100)]] + [[read("PARK01")]]
    )
    assert sorted(e.plate for e in events if e.kind == "new") == ["PARK01"]
    # nothing moves for a minute: the parked car stays one live track, the other one ages out
    later = [e for s in range(1, 60) for e in t.unchanged(0.2 + s)]
    assert later == [] and t.active == 1
    assert [e.kind for e in t.update([], 61.0) + t.update([], 63.0)] == ["end"]


def test_require_motion_ignores_static_text() -> None:
    t = tracker(min_frames=2)  # require_motion is on by default
    plate, sign = read("KTR4829", x=100), read("A63L933A", x=800, y=600)
    frames = [[read("KTR4829", x=100 + 30 * i), sign] for i in range(4)]
    events = []
    for i, reads in enumerate(frames):
        events += t.update(reads, i * 0.1, moved=lambda b: b.y != sign.box.y)
    assert [e.plate for e in events if e.kind == "new"] == [plate.plate]
