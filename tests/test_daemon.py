"""Runner behaviour in-process: watchdog only on progress, bad frames counted, SIGHUP, stop drains.

The end-to-end behaviour (`edge-ocr run` as a subprocess with the real reader, model and broker)
is in test_daemon_e2e.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.daemon.config import Config, DaemonConfig, LogConfig, SourceConfig, TrackerConfig
from edge_ocr.daemon.notify import Notifier
from edge_ocr.daemon.runner import Runner
from edge_ocr.daemon.sinks.log import JsonLinesSink
from edge_ocr.daemon.sources import make_source
from edge_ocr.types import Box, CharPrediction, PlateRead


class NotifyListener:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET; records (time, message)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def times(self, prefix: str) -> list[float]:
        return [t for t, m in list(self.messages) if any(x.startswith(prefix) for x in m.split("\n"))]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


def test_notifier_messages(tmp_path: Path) -> None:
    lis = NotifyListener(tmp_path / "notify")
    now = [0.0]
    n = Notifier({"NOTIFY_SOCKET": str(lis.path), "WATCHDOG_USEC": "3000000"}, clock=lambda: now[0])
    assert n.ping_interval == 1.0
    n.ready("hello")
    n.watchdog()
    n.watchdog()  # rate limited: same instant
    now[0] = 1.5
    n.watchdog()
    n.status("x")
    time.sleep(0.3)
    lis.close()
    assert [m for _t, m in lis.messages] == ["READY=1\nSTATUS=hello", "WATCHDOG=1", "WATCHDOG=1", "STATUS=x"]
    assert not Notifier({}).enabled and Notifier({}).send("READY=1") is False


def plate_read(text: str, x: int) -> PlateRead:
    chars = tuple(CharPrediction(c, 0.9, Box(x + 10 * i, 50, 9, 20)) for i, c in enumerate(text))
    return PlateRead(text, 0.9, "us", True, Box(x, 50, 100, 25), ((x, 50),) * 4, (), chars)  # type: ignore[arg-type]


class StubReader:
    """Runner-logic tests only: 'reads' a plate whose x position is the image's mean grey value;
    raises on frames whose first pixel is 255; blocks while `hang` is set."""

    def __init__(self) -> None:
        self.last_timings: dict[str, float] = {}
        self.hang = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.detect_shapes: list[tuple[int, ...] | None] = []

    def read_frame(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRead]:
        self.calls += 1
        self.detect_shapes.append(None if detect_image is None else detect_image.shape)
        if self.hang.is_set():
            self.release.wait()
        if int(image.flat[0]) == 255:
            raise ValueError("reader choked")
        self.last_timings = {"detect": 1.0, "classify": 2.0}
        return [plate_read("ABC123", int(image.mean()))]


def folder_with_frames(
    folder: Path, n: int, corrupt: tuple[int, ...] = (), choke: tuple[int, ...] = ()
) -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if i in corrupt:
            (folder / f"{i:04d}.jpg").write_bytes(b"not a jpeg")
            continue
        img = np.full((40, 60, 3), 10 + i % 200, np.uint8)
        if i in choke:
            img[0, 0] = 255
        cv2.imwrite(str(folder / f"{i:04d}.png"), img)
    return folder


def make_runner(
    tmp_path: Path, folder: Path, reader: StubReader, env: dict[str, str] | None = None, **src: object
):  # type: ignore[no-untyped-def]
    cfg = Config(
        source=SourceConfig(kind="folder", uri=str(folder), camera="t", fps=10.0, **src),  # type: ignore[arg-type]
        tracker=TrackerConfig(min_frames=2, end_after_s=0.5, require_motion=False),  # flat grey frames
        log=LogConfig(path=str(tmp_path / "events.jsonl"), stats=True),
        daemon=DaemonConfig(idle_timeout_s=0.05, stats_interval_s=0.5, status_interval_s=0.5),
    )
    sink = JsonLinesSink(cfg.log.path, cfg.log.kinds, stats=True)
    return Runner(cfg, reader, make_source(cfg.source), [sink], Notifier(env or {}))


def log_lines(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]


def test_bad_frames_skipped_counted_and_events_flow(tmp_path: Path) -> None:
    folder = folder_with_frames(tmp_path / "frames", 12, corrupt=(3, 7), choke=(5,))
    reader = StubReader()
    assert make_runner(tmp_path, folder, reader).run() == 0
    lines = log_lines(tmp_path)
    events = [x for x in lines if x.get("schema") == "edge_ocr.event/1"]
    assert [(e["kind"], e["plate"]) for e in events] == [("new", "ABC123"), ("end", "ABC123")]
    stats = [x for x in lines if x.get("schema") == "edge_ocr.stats/1"][-1]
    assert stats["bad_frames"] == 3  # two undecodable files + one frame the reader choked on
    assert stats["frames_in"] == 10 and stats["frames_out"] == 9 and stats["dropped"] == 0
    assert stats["stage_ms"]["classify"] == 2.0  # type: ignore[index]


@pytest.mark.parametrize("every", [60.0, 0.0])
def test_full_collection_on_its_interval_reported_in_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every: float
) -> None:
    """daemon.gc_interval_s: a full collection that often (the first freezes what start-up made),
    its longest time in the next stats message (gc_ms); 0 leaves collections to Python and every
    message says 0."""
    took = iter([3.0, 7.5, 2.0, 4.0, 1.0])
    calls: list[tuple[float, bool]] = []
    monkeypatch.setattr(
        "edge_ocr.daemon.runner.collect", lambda freeze: calls.append((now[0], freeze)) or next(took)
    )
    now = [1000.0]
    cfg = Config(
        source=SourceConfig(kind="folder", uri=str(folder_with_frames(tmp_path / "f", 2)), camera="t"),
        log=LogConfig(path=str(tmp_path / "events.jsonl"), stats=True),
        daemon=DaemonConfig(stats_interval_s=150.0, status_interval_s=0.5, gc_interval_s=every),
    )
    sink = JsonLinesSink(cfg.log.path, cfg.log.kinds, stats=True)
    runner = Runner(cfg, StubReader(), make_source(cfg.source), [sink], Notifier({}), mono=lambda: now[0])
    for _ in range(301):  # 300 s in steps of one second
        runner._periodic()
        now[0] += 1.0
    sink.close(0.0)
    gc_ms = [x["gc_ms"] for x in log_lines(tmp_path) if x.get("schema") == "edge_ocr.stats/1"]
    if every:
        # the first one interval after start, and it freezes what start-up made
        assert calls == [(1060.0, True), (1120.0, False), (1180.0, False), (1240.0, False), (1300.0, False)]
        assert gc_ms == [7.5, 4.0]  # the longest since the previous message (at 150 s and at 300 s)
    else:
        assert calls == [] and gc_ms == [0.0, 0.0]


def test_watchdog_only_while_loop_progresses(tmp_path: Path) -> None:
    lis = NotifyListener(tmp_path / "notify")
    folder = folder_with_frames(tmp_path / "frames", 400)
    reader = StubReader()
    env = {"NOTIFY_SOCKET": str(lis.path), "WATCHDOG_USEC": "300000"}  # ping every 0.1 s
    runner = make_runner(tmp_path, folder, reader, env, playback_rate=1.0)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    time.sleep(1.0)
    reader.hang.set()  # the pipeline stops making progress
    time.sleep(0.2)
    hung_at = time.monotonic()
    time.sleep(1.5)
    reader.hang.clear()
    reader.release.set()
    time.sleep(0.8)
    runner.request_stop()
    thread.join(10)
    lis.close()
    pings = lis.times("WATCHDOG=1")
    assert lis.times("READY=1")
    assert len([t for t in pings if t < hung_at]) >= 5
    assert not [t for t in pings if hung_at <= t < hung_at + 1.5]  # no pings while hung
    assert [t for t in pings if t > hung_at + 1.5]  # resumed
    assert lis.times("STOPPING=1") and lis.times("STATUS=")
    assert not thread.is_alive()


def test_motion_gate() -> None:
    from edge_ocr.daemon.config import MotionConfig
    from edge_ocr.daemon.motion import MotionGate

    still = np.full((360, 640), 90, np.uint8)
    moved = still.copy()
    moved[100:200, 300:420] = 200  # something entered
    gate = MotionGate(MotionConfig(enabled=True))
    assert gate.changed(still)  # first frame: nothing to compare with
    assert not gate.changed(still.copy()) and gate.skipped == 1
    assert gate.changed(moved)
    assert gate.changed(moved.copy(), force=True)  # forced while vehicles are tracked
    noisy = np.clip(moved.astype(int) + np.random.default_rng(0).integers(-8, 9, moved.shape), 0, 255)
    assert not gate.changed(noisy.astype(np.uint8))  # sensor noise is not motion
    assert MotionGate(MotionConfig(enabled=False)).changed(still)


def test_box_motion() -> None:
    from edge_ocr.daemon.config import MotionConfig
    from edge_ocr.daemon.motion import MotionGate

    scene = np.full((720, 1280), 90, np.uint8)
    scene[600:640, 100:200] = 250  # painted text on the road: static
    gate = MotionGate(MotionConfig(enabled=False), analyse=True)
    assert gate.changed(scene)
    assert not gate.moved(Box(100, 600, 100, 40), 1280)  # first frame: unknown is not motion
    nxt = scene.copy()
    nxt[300:400, 700:900] = 30  # a vehicle arrives
    assert gate.changed(nxt)  # the gate is off: every frame passes
    assert gate.moved(Box(700, 300, 200, 100), 1280)
    assert not gate.moved(Box(100, 600, 100, 40), 1280)
    assert gate.moved(Box(350, 150, 100, 50), 640)  # boxes of a main stream twice the size


def test_runner_with_picamera2_frames_uses_lores_for_the_gate(tmp_path: Path) -> None:
    from test_sources import FakePicamera2

    from edge_ocr.daemon.config import MotionConfig
    from edge_ocr.daemon.sources.picam import PicameraSource

    cam = FakePicamera2()
    reader = StubReader()
    cfg = Config(
        source=SourceConfig(kind="picamera2", camera="pi"),
        motion=MotionConfig(enabled=True),
        log=LogConfig(path=str(tmp_path / "events.jsonl")),
        daemon=DaemonConfig(idle_timeout_s=0.05),
    )
    source = PicameraSource("pi", 320, 240, 160, 120, factory=lambda: cam)
    runner = Runner(cfg, reader, source, [JsonLinesSink(cfg.log.path)], Notifier({}))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    time.sleep(1.0)
    runner.request_stop()
    thread.join(10)
    assert not thread.is_alive() and len(cam.requests) > 5
    # identical frames: only the first reaches the reader; the gate looked at the 160x120 Y plane
    assert reader.calls == 1 and runner.gate.skipped > 5
    assert runner.gate._prev is not None and runner.gate._prev.shape[1] == 160
    assert reader.detect_shapes == [(120, 160)]  # detection got the lores Y plane, reading the main frame


class WedgedSource:
    """A camera whose driver call never returns (until released)."""

    name = "wedged"
    live = True

    def __init__(self) -> None:
        self.release = threading.Event()

    def open(self) -> None:
        pass

    def read(self):  # type: ignore[no-untyped-def]
        self.release.wait()
        from edge_ocr.daemon.sources import EndOfStream

        raise EndOfStream("released")

    def close(self) -> None:
        pass


def test_wedged_camera_stops_watchdog_only_when_configured(tmp_path: Path) -> None:
    def pings(stall_s: float) -> list[float]:
        lis = NotifyListener(tmp_path / f"notify{stall_s}")
        cfg = Config(
            log=LogConfig(path=str(tmp_path / "events.jsonl")),
            daemon=DaemonConfig(idle_timeout_s=0.05, capture_stall_s=stall_s),
        )
        env = {"NOTIFY_SOCKET": str(lis.path), "WATCHDOG_USEC": "300000"}
        source = WedgedSource()
        runner = Runner(cfg, StubReader(), source, [JsonLinesSink(cfg.log.path)], Notifier(env))
        thread = threading.Thread(target=runner.run, daemon=True)
        t0 = time.monotonic()
        thread.start()
        time.sleep(1.5)
        source.release.set()
        thread.join(10)
        lis.close()
        return [t - t0 for t in lis.times("WATCHDOG=1")]

    assert [t for t in pings(0.0) if t > 1.0]  # default: a silent camera is not a reason to restart
    stalled = pings(0.5)
    assert stalled and not [t for t in stalled if 0.7 < t < 1.5]
