from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.daemon.config import MqttConfig
from edge_ocr.daemon.sinks.base import EVENT_SCHEMA, Stats, event_to_json
from edge_ocr.daemon.sinks.crops import CropSaver, crop_box
from edge_ocr.daemon.sinks.log import JsonLinesSink
from edge_ocr.daemon.sinks.mqtt import read_password
from edge_ocr.types import Box, PlateCandidate, PlateEvent


def event(kind: str = "new", plate: str = "ABC123", eid: str = "id1", ts: float = 1.7e9) -> PlateEvent:
    return PlateEvent(
        kind,
        eid,
        "gate",
        3,
        plate,
        0.91234,
        ts,
        ts - 1,
        ts,
        7,
        Box(1, 2, 3, 4),
        (PlateCandidate(plate, 0.8),),
        "us",
    )


def test_event_schema() -> None:
    d = event_to_json(event())
    assert d["schema"] == EVENT_SCHEMA and d["event_id"] == "id1" and d["kind"] == "new"
    assert d["plate"] == "ABC123" and d["confidence"] == 0.9123 and d["box"] == [1, 2, 3, 4]
    assert d["time"].startswith("2023-11-14T") and d["time"].endswith("+00:00")
    assert d["candidates"] == [{"plate": "ABC123", "confidence": 0.8}] and d["known"] is None
    json.dumps(d)


def test_log_sink_kinds_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "events.jsonl"
    sink = JsonLinesSink(str(path), kinds=("new", "end"))
    sink.emit(event("new"))
    sink.emit(event("update"))
    os.rename(path, tmp_path / "rotated.jsonl")  # logrotate
    sink.emit(event("end", eid="id2"))
    sink.reopen()  # SIGHUP
    sink.emit(event("end", eid="id3"))
    sink.close()
    old = [json.loads(x) for x in (tmp_path / "rotated.jsonl").read_text().splitlines()]
    new = [json.loads(x) for x in path.read_text().splitlines()]
    assert [e["event_id"] for e in old] == ["id1", "id2"]
    assert [e["event_id"] for e in new] == ["id3"]


def test_log_sink_stats_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sink = JsonLinesSink("-", stats=True)
    stats = Stats("gate", 12.345, 9.99, 4.444, 100, 50, 49, 1, 0, 0, 2, 0, 0, 0, {"detect": 12.3456})
    sink.publish_stats(stats)
    line = json.loads(capsys.readouterr().out)
    assert (
        line["schema"] == "edge_ocr.stats/1"
        and line["fps_out"] == 4.44
        and line["stage_ms"] == {"detect": 12.35}
    )


def test_crop_quota_deletes_oldest(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 255, (60, 200, 3), dtype=np.uint8)  # noise: JPEG cannot shrink it much
    saver = CropSaver(tmp_path / "crops", quota_bytes=0)
    one = saver.save(event(), crop)
    assert one is None and saver.deleted == 1  # a zero quota keeps nothing
    saver.quota = 3 * 40_000
    paths = [saver.save(event(ts=1.7e9 + i, eid=f"e{i}"), crop) for i in range(10)]
    kept = sorted((tmp_path / "crops").glob("*.jpg"))
    assert 1 <= len(kept) < 10
    assert sum(p.stat().st_size for p in kept) <= saver.quota
    assert paths[-1] in kept  # the newest survives
    assert saver.save(event("end"), crop) is None


def test_crop_box_clips() -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    assert crop_box(img, 90, 90, 20, 20, pad=0.0).shape == (10, 10, 3)
    assert crop_box(img, 10, 10, 20, 20, pad=0.5).shape == (40, 40, 3)


def test_password_from_credentials_directory(tmp_path: Path) -> None:
    (tmp_path / "mqtt_password").write_text("s3cret\n")
    cfg = MqttConfig(password="inline")
    assert read_password(cfg, {"CREDENTIALS_DIRECTORY": str(tmp_path)}) == "s3cret"
    assert read_password(cfg, {}) == "inline"
    pw = tmp_path / "pw"
    pw.write_text("fromfile")
    assert read_password(MqttConfig(password_file=str(pw)), {}) == "fromfile"


def test_crop_save_costs_the_same_with_100_or_10000_files(tmp_path: Path) -> None:
    """A save under the quota never lists the folder (that took 154 ms at 10,000 files); one over it
    lists it once and deletes the oldest down to 90 % of the quota."""
    crop = np.random.default_rng(0).integers(0, 255, (60, 200, 3), dtype=np.uint8)
    ms = {}
    for n in (100, 10_000):
        folder = tmp_path / f"crops{n}"
        folder.mkdir()
        for i in range(n):
            (folder / f"old{i:05d}.jpg").write_bytes(b"\xff" * 100)
            os.utime(folder / f"old{i:05d}.jpg", ns=(1_000_000_000 * i, 1_000_000_000 * i))
        saver = CropSaver(folder, quota_bytes=10**9)
        assert saver.total == 100 * n and saver.listings == 1
        times = []
        for i in range(30):
            t0 = time.perf_counter()
            saver.save(event(ts=1.7e9 + i, eid=f"e{i:03d}"), crop)
            times.append(1000 * (time.perf_counter() - t0))
        ms[n] = sorted(times)[len(times) // 2]
        assert saver.listings == 1
        size = len(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])[1])
        saver.quota = saver.total + size - 250  # the next save goes over: the oldest go, to 90 %
        newest = saver.save(event(ts=1.8e9, eid="last"), crop)
        left = {p.name: p.stat().st_size for p in folder.glob("*.jpg")}
        assert saver.listings == 2 and saver.total == sum(left.values()) <= 0.9 * saver.quota
        assert saver.held == saver.deleted  # the scan held only the crops it deleted, not the folder
        assert n == 100 or saver.deleted < n / 5
        order = sorted(left, key=lambda name: (name.startswith("1"), name))  # olds, then the 31 saved
        every = [f"old{i:05d}.jpg" for i in range(n)] + [f"{1.7e9 + i:.3f}_gate_ABC123_e{i:03d}.jpg" for i in range(30)]
        assert newest is not None and newest.name == order[-1]
        assert order[:-1] == every[len(every) - len(order) + 1 :]  # what is left is the newest: the oldest went
        assert len(order) < n + 31
    print(f"median ms per crop save: 100 files {ms[100]:.3f}, 10,000 files {ms[10_000]:.3f}")
    assert ms[10_000] < 3 * ms[100] + 1.0


def test_crop_quota_scans_again_for_crops_copied_in(tmp_path: Path) -> None:
    """The running total says how much to delete; crops copied into the folder behind the saver's
    back are found by a second scan, and the folder still ends under 90 % of the quota, oldest first."""
    folder = tmp_path / "crops"
    folder.mkdir()

    def put(name: str, size: int, age_s: int) -> None:
        (folder / name).write_bytes(b"\xff" * size)
        os.utime(folder / name, ns=(1_000_000_000 * age_s, 1_000_000_000 * age_s))

    for i in range(50):
        put(f"a{i:02d}.jpg", 1000, i)
    saver = CropSaver(folder, quota_bytes=60_000)
    assert saver.total == 50_000
    for i in range(40):  # copied in by hand, older than all the saver knew of
        put(f"hand{i:02d}.jpg", 1000, -100 + i)
    crop = np.random.default_rng(1).integers(0, 255, (60, 200, 3), dtype=np.uint8)
    size = len(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])[1])
    saver.quota = 50_000 + size - 100  # by its own count, this save goes just over
    newest = saver.save(event(ts=1.8e9, eid="last"), crop)
    left = sorted(p.name for p in folder.glob("*.jpg"))
    assert newest is not None and newest.name in left
    assert saver.listings == 3  # at start, the pass judged from the running total, the pass for the rest
    assert saver.total == sum((folder / n).stat().st_size for n in left) <= 0.9 * saver.quota
    assert not any(n.startswith("hand") for n in left)  # the oldest went first
    olds = [n for n in left if n.startswith("a")]
    assert len(olds) == len(left) - 1 and olds == [f"a{i:02d}.jpg" for i in range(50 - len(olds), 50)]


def test_files_the_daemon_writes_are_private_whatever_the_umask(tmp_path: Path) -> None:
    from edge_ocr.daemon.sinks.spool import Spool

    old = os.umask(0o022)
    try:
        log = JsonLinesSink(str(tmp_path / "logs" / "events.jsonl"))
        log.emit(event())
        spool = Spool(tmp_path / "state" / "spool.sqlite3")
        spool.put("t", "x")
        saver = CropSaver(tmp_path / "state" / "crops", 10**9)
        crop = saver.save(event(), np.zeros((20, 40, 3), np.uint8))
    finally:
        os.umask(old)
    assert crop is not None
    files = [tmp_path / "logs" / "events.jsonl", crop, *(tmp_path / "state").glob("spool.sqlite3*")]
    assert len(files) == 5  # the log, a crop, the spool with its -wal and -shm
    assert {f.name: oct(f.stat().st_mode & 0o777) for f in files} == {f.name: "0o600" for f in files}
    folders = [tmp_path / "logs", tmp_path / "state", tmp_path / "state" / "crops"]
    assert [oct(d.stat().st_mode & 0o777) for d in folders] == ["0o700"] * 3
    spool.close()
    log.close()
