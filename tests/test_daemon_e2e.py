"""`edge-ocr run` end to end: a rendered video, the real reader and shipped model, a real mosquitto.

These are the acceptance tests of the camera daemon. The video is drawn by tests/helpers_video.py
around plates from the project's renderer, so which plates pass, and in which order, is known.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
from helpers_mosquitto import Mosquitto, Subscriber
from helpers_video import render_video, spaced
from test_daemon import NotifyListener


@pytest.fixture()
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()


pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
PLATES = ["KTR4829", "HWP7316", "MXD5042"]
MORE_PLATES = ["JVN2618"]

# Runs the CLI in a child process; afterwards reports whether TensorFlow/Keras got imported.
# With EDGE_OCR_TEST_HANG set, Reader.read_frame, Reader.detect and Reader.propose (the daemon's
# first call per frame when it follows settled plates) block while that file exists (a hung pipeline).
LAUNCHER = r"""
import os, sys, time
hang = os.environ.get("EDGE_OCR_TEST_HANG")
if hang:
    from edge_ocr.reader import pipeline
    def hung(real):
        def call(self, image, *args, **kwargs):
            while os.path.exists(hang):
                time.sleep(0.05)
            return real(self, image, *args, **kwargs)
        return call
    pipeline.Reader.read_frame = hung(pipeline.Reader.read_frame)
    pipeline.Reader.detect = hung(pipeline.Reader.detect)
    pipeline.Reader.propose = hung(pipeline.Reader.propose)
from edge_ocr.cli import main
sys.argv = ["edge-ocr"] + sys.argv[1:]
try:
    rc = main()
finally:
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
    sys.stderr.write(f"HEAVY_MODULES={heavy}\n")
sys.exit(rc)
"""


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    vehicles, total = spaced(PLATES)
    return render_video(tmp_path_factory.mktemp("video") / "road.mp4", vehicles, total, seed=4)


def write_config(
    tmp: Path, uri: str, kind: str = "opencv", port: int = 0, extra: str = "", **source: Any
) -> Path:
    src = {"kind": kind, "uri": uri, "camera": "gate", "retry_min_s": 0.2, "retry_max_s": 1.0, **source}
    lines = ["[source]"] + [f"{k} = {json.dumps(v)}" for k, v in src.items()]
    lines += ["[reader]", "threads = 1"]
    lines += ["[tracker]", "min_frames = 3", "end_after_s = 1.0", "[motion]", "enabled = true"]
    lines += ["[log]", f"path = {json.dumps(str(tmp / 'events.jsonl'))}", "stats = true"]
    lines += ["[daemon]", "stats_interval_s = 5.0", "status_interval_s = 1.0"]
    if port:
        lines += ["[mqtt]", "enabled = true", 'host = "127.0.0.1"', f"port = {port}", "reconnect_max_s = 2.0"]
        lines += ["drain_timeout_s = 10.0", "[spool]", f"path = {json.dumps(str(tmp / 'spool.sqlite3'))}"]
    path = tmp / "edge-ocr.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def start(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    full = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path, **(env or {})}
    cmd = [sys.executable, "-c", LAUNCHER, "run", "--config", str(config)]
    return subprocess.Popen(
        cmd, cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str], timeout: float) -> str:
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        pytest.fail(f"edge-ocr run did not finish in {timeout} s:\n{err[-3000:]}")
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert "HEAVY_MODULES=[]" in err  # the device process never imports TensorFlow
    return err


def log_lines(tmp: Path) -> list[dict[str, Any]]:
    path = tmp / "events.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def events(lines: list[dict[str, Any]], kind: str | None = None) -> list[dict[str, Any]]:
    return [x for x in lines if x.get("schema") == "edge_ocr.event/1" and kind in (None, x["kind"])]


def last_stats(lines: list[dict[str, Any]]) -> dict[str, Any]:
    stats = [x for x in lines if x.get("schema") == "edge_ocr.stats/1"]
    assert stats, "no stats line"
    return stats[-1]


def mqtt_events(sub: Subscriber) -> list[dict[str, Any]]:
    return [json.loads(p) for p in sub.payloads("gate/event")]


def test_video_gives_one_new_per_vehicle_on_log_and_mqtt(
    video: Path, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sub = Subscriber(mosquitto.port, ["edge_ocr/#"])
    finish(start(write_config(tmp_path, str(video), port=mosquitto.port)), timeout=600)
    lines = log_lines(tmp_path)
    assert [e["plate"] for e in events(lines, "new")] == PLATES, events(lines)
    assert len(events(lines, "end")) == len(PLATES)
    stats = last_stats(lines)
    assert stats["dropped"] == 0 and stats["bad_frames"] == 0 and stats["queue_depth"] == 0
    got = mqtt_events(sub)
    assert [e["plate"] for e in got if e["kind"] == "new"] == PLATES
    assert {e["event_id"] for e in got} == {e["event_id"] for e in events(lines)}
    assert sub.payloads("gate/availability")[-1] == b"offline"
    assert json.loads(sub.payloads("gate/plate")[-1])["plate"] == PLATES[-1]
    sub.close()


def test_broker_outage_and_daemon_restart_lose_nothing(
    video: Path,
    mosquitto: Mosquitto,
    tmp_path: Path,
) -> None:
    # 1. real-time playback; the broker is down for >= 30 s in the middle of the video
    # played at half speed: 4 vehicles, 12 s in view each (a loaded 2-core box reads ~2 frames/s), 66 s
    vehicles, total = spaced(PLATES + MORE_PLATES[:1], cross=60, gap=20)
    long_video = render_video(tmp_path / "long.mp4", vehicles, total, fps=10.0, seed=5)
    sub = Subscriber(mosquitto.port, ["edge_ocr/gate/event"])
    run1 = tmp_path / "run1"
    run1.mkdir()
    proc = start(write_config(run1, str(long_video), port=mosquitto.port, playback_rate=0.5))
    time.sleep(10.0)
    mosquitto.stop()
    down_at = time.monotonic()
    time.sleep(32.0)
    spooled = sqlite3.connect(run1 / "spool.sqlite3").execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    mosquitto.start()
    outage = time.monotonic() - down_at
    finish(proc, timeout=600)
    assert outage >= 30.0 and spooled > 0
    logged = events(log_lines(run1))
    assert [e["plate"] for e in logged if e["kind"] == "new"] == [v.plate for v in vehicles], logged
    received = sub.wait_for("gate/event", len(logged), 30)
    ids = [json.loads(p)["event_id"] for p in received]
    assert set(ids) == {e["event_id"] for e in logged}  # none lost; duplicates share an id

    # 2. the broker is down for a whole run: the daemon exits with everything still spooled ...
    mosquitto.stop()
    run2 = tmp_path / "run2"
    run2.mkdir()
    config2 = write_config(run2, str(video), port=mosquitto.port)
    text = config2.read_text().replace("drain_timeout_s = 10.0", "drain_timeout_s = 1.0")
    config2.write_text(text)
    finish(start(config2), timeout=600)
    logged2 = events(log_lines(run2))
    assert [e["plate"] for e in logged2 if e["kind"] == "new"] == PLATES
    depth = sqlite3.connect(run2 / "spool.sqlite3").execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    assert depth >= len(logged2)
    # ... and the next start (nothing new to read) replays the spool in order once the broker is back
    mosquitto.start()
    empty = run2 / "empty"
    empty.mkdir()
    finish(start(write_config(run2, str(empty), kind="folder", port=mosquitto.port)), timeout=120)
    want = [e["event_id"] for e in logged2]
    received = sub.wait_for("gate/event", len(logged) + len(want), 30)
    got = [json.loads(p)["event_id"] for p in received]
    got2 = [i for i in dict.fromkeys(got) if i in set(want)]
    assert got2 == want  # all of them, in the original order
    sub.close()


def frames_of(video: Path, folder: Path, start: int, stop: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(video))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    for i in range(start, stop):
        ok, frame = cap.read()
        assert ok
        cv2.imwrite(str(folder / f"{i:05d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    cap.release()
    return stop - start


def test_corrupt_frames_are_skipped_and_counted(video: Path, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames_of(video, frames, 0, 45)  # the first vehicle
    (frames / "00010a.jpg").write_bytes(b"")
    (frames / "00020a.jpg").write_bytes(os.urandom(5000))
    (frames / "00030a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    extra = (
        f"[crops]\nenabled = true\ndir = {json.dumps(str(tmp_path / 'crops'))}\nquota_mb = 1.0\n"
        '[known]\nplates = ["KTR4828", "ZZZ0000"]\nmax_edit_distance = 1\n'
    )
    finish(start(write_config(tmp_path, str(frames), kind="folder", extra=extra)), timeout=300)
    lines = log_lines(tmp_path)
    news = events(lines, "new")
    assert [e["plate"] for e in news] == PLATES[:1], events(lines)
    assert news[0]["known"] == "KTR4828"  # fuzzy match on the watch list
    stats = last_stats(lines)
    assert stats["bad_frames"] == 3 and stats["frames_in"] == 45
    crops = sorted((tmp_path / "crops").glob("*.jpg"))
    assert crops and all("KTR4829" in p.name for p in crops)
    assert cv2.imread(str(crops[0])).shape[1] > 100  # the plate, not a sliver


def test_vanished_source_is_retried_without_exiting(video: Path, tmp_path: Path) -> None:
    lis = NotifyListener(tmp_path / "notify")
    target = tmp_path / "later.mp4"
    proc = start(write_config(tmp_path, str(target)), {"NOTIFY_SOCKET": str(lis.path)})
    deadline = time.monotonic() + 120
    while not lis.times("READY=1") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lis.times("READY=1"), "no READY"
    time.sleep(3.0)
    assert proc.poll() is None  # still running while the source is missing
    status = [m for _t, m in lis.messages if m.startswith("STATUS=") and "source errors" in m]
    assert status, lis.messages
    tmp = tmp_path / "partial.mp4"
    vehicles, total = spaced(PLATES[:1])
    render_video(tmp, vehicles, total, seed=4)
    os.rename(tmp, target)  # the camera comes back
    finish(proc, timeout=300)
    lis.close()
    lines = log_lines(tmp_path)
    assert [e["plate"] for e in events(lines, "new")] == PLATES[:1]
    assert last_stats(lines)["source_errors"] >= 2


def test_hung_pipeline_stops_watchdog_sighup_reopens_sigterm_drains(
    video: Path, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    lis = NotifyListener(tmp_path / "notify")
    sub = Subscriber(mosquitto.port, ["edge_ocr/gate/#"])
    hang = tmp_path / "hang"
    env = {"NOTIFY_SOCKET": str(lis.path), "WATCHDOG_USEC": "600000", "EDGE_OCR_TEST_HANG": str(hang)}
    proc = start(write_config(tmp_path, str(video), port=mosquitto.port, playback_rate=0.5), env)
    deadline = time.monotonic() + 120
    while not events(log_lines(tmp_path), "new") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert events(log_lines(tmp_path), "new"), "no event before the hang"
    os.rename(tmp_path / "events.jsonl", tmp_path / "events.1.jsonl")  # logrotate ...
    proc.send_signal(signal.SIGHUP)  # ... and `systemctl reload`
    time.sleep(1.0)
    hang.touch()  # the reader blocks from its next frame on
    time.sleep(1.0)
    hung_at = time.monotonic()
    time.sleep(2.0)
    hang.unlink()
    time.sleep(1.5)
    pings = lis.times("WATCHDOG=1")
    assert len([t for t in pings if t < hung_at - 1.0]) >= 3
    assert not [t for t in pings if hung_at <= t < hung_at + 2.0], "pinged while hung"
    assert [t for t in pings if t > hung_at + 2.0], "no pings after recovery"
    proc.send_signal(signal.SIGTERM)
    finish(proc, timeout=60)
    lis.close()
    assert lis.times("STOPPING=1")
    rotated = [json.loads(x) for x in (tmp_path / "events.1.jsonl").read_text().splitlines()]
    reopened = log_lines(tmp_path)
    assert events(rotated, "new") and reopened  # SIGHUP reopened the log under its name
    lines = rotated + reopened
    assert len(events(lines, "end")) == len(events(lines, "new"))  # vehicles in view were ended
    assert last_stats(reopened)["frames_out"] > 0
    assert sub.wait_for("gate/availability", 2, 5)[-1] == b"offline"
    sub.close()
