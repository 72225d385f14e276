"""`edge-ocr bench daemon`: the traffic video generator, the figures, and one real run."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.bench.daemon import DaemonRun, read_trace, write_config
from edge_ocr.bench.daemon_report import check_truth, cost_per_plate, rss_slope
from edge_ocr.daemon.config import load_config
from edge_ocr.synth.video import TrafficSpec, plan_traffic, render_traffic, truth_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("n", [1, 4, 8])
def test_traffic_keeps_n_vehicles_in_view(n: int) -> None:
    spec = TrafficSpec(in_view=n, seconds=20.0)
    vehicles, total = plan_traffic(spec)
    assert total == 600 and len({v.plate for v in vehicles}) == len(vehicles)
    in_view = [sum(v.enter <= i < v.enter + v.frames for v in vehicles) for i in range(total)]
    assert abs(float(np.mean(in_view)) - n) <= 0.5 and min(in_view) >= max(1, n - 1)


def test_render_traffic_writes_video_and_truth(tmp_path: Path) -> None:
    video = tmp_path / "t.mp4"
    truth = render_traffic(video, TrafficSpec(in_view=4, seconds=1.0, fps=10.0, cross_s=0.5))
    assert truth == truth_path(video)
    doc = json.loads(truth.read_text())
    assert doc["frames"] == 10 and any(v["complete"] for v in doc["vehicles"])
    cap = cv2.VideoCapture(str(video))
    frames = 0
    while cap.read()[0]:
        frames += 1
    assert frames == 10 and cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 1280


def test_truth_check_counts_right_missed_duplicates_wrong() -> None:
    truth = {
        "vehicles": [
            {"plate": "AAA1111", "complete": True},
            {"plate": "BBB2222", "complete": True},
            {"plate": "CCC3333", "complete": False},  # cut by the end of the video
        ]
    }
    events = [
        {"kind": k, "plate": p}
        for k, p in [
            ("new", "AAA1111"),
            ("new", "AAA1111"),
            ("end", "AAA1111"),
            ("new", "XYZ9999"),
            ("new", "CCC3333"),
        ]
    ]
    t = check_truth(events, truth)
    assert (t["vehicles"], t["right"], t["missed"], t["duplicates"], t["wrong"]) == (
        2,
        1,
        ["BBB2222"],
        1,
        ["XYZ9999"],
    )
    assert t["partial_reported"] == 1 and check_truth(events, None)["new"] == 4


def test_slope_and_cost_per_plate() -> None:
    flat = [(float(t), 100.0 + 0.001 * (t % 3)) for t in range(0, 600)]
    slope = rss_slope(flat)
    assert slope is not None and abs(slope) < 1.0
    growing = [(float(t), 100.0 + t / 60.0) for t in range(0, 600)]  # 1 MiB a minute
    assert rss_slope(growing) == pytest.approx(60.0, rel=0.01)
    assert rss_slope(growing[:100]) is None  # 70 s after the warm-up: too short to say
    rows = [
        {"status": "processed", "followed": f, "covered": 0, "read": r, "cpu_ms": 10 + 2 * f + 40 * r}
        for f in range(4)
        for r in range(3)
    ]
    fit = cost_per_plate([rows])
    assert fit["base_ms"] == pytest.approx(10) and fit["per_followed_ms"] == pytest.approx(2)
    assert fit["per_read_ms"] == pytest.approx(40)


def test_config_written_for_the_daemon_is_valid(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    run = DaemonRun(
        video, tmp_path / "out", detector="lines", mqtt="localhost:1883", crops=True, duration_s=60
    )
    cfg = load_config(write_config(run))
    assert (
        cfg.source.uri == str(video.resolve())
        and not cfg.source.exit_at_end
        and cfg.reader.detector == "lines"
    )
    assert cfg.mqtt.enabled and cfg.mqtt.port == 1883 and cfg.crops.enabled
    assert cfg.mqtt.client_id.startswith("edge-ocr-bench-") and cfg.mqtt.client_id.endswith("-out")
    assert cfg.daemon.trace.endswith("trace.csv") and cfg.log.stats
    assert cfg.crops.quota_mb == 100.0  # the daemon's default unless the bench is given one
    small = dataclasses.replace(run, crops_quota_mb=12.5)
    assert load_config(write_config(small)).crops.quota_mb == 12.5


def test_opencv_source_with_lores_gives_a_small_copy(tmp_path: Path) -> None:
    from edge_ocr.daemon.sources import CameraFrame
    from edge_ocr.daemon.sources.opencv import OpenCvSource

    video = tmp_path / "t.mp4"
    render_traffic(video, TrafficSpec(in_view=1, seconds=0.3, fps=10.0))
    src = OpenCvSource(str(video), lores=(640, 360))
    src.open()
    frame = src.read()
    src.close()
    assert isinstance(frame, CameraFrame) and frame.lores is not None
    assert frame.lores.shape == (360, 640, 3) and frame.image.shape == (720, 1280, 3)


def test_bench_daemon_runs_edge_ocr_run_on_a_rendered_video(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    cmd = [
        sys.executable,
        "-m",
        "edge_ocr",
        "bench",
        "daemon",
        "--in-view",
        "1",
        "--seconds",
        "1",
        "--detector",
        "lines",
        "--out",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "summary.json").read_text())
    run = doc["runs"][0]
    assert run["frames_in"] == 30 and run["processed"] == 30 and run["returncode"] == 0
    assert run["cpu_ms"]["mean"] > 0 and run["cpu_ms"]["p90"] >= run["cpu_ms"]["mean"] * 0.5
    assert run["peak_rss_mib"] > 50 and run["plates"]["regions"] >= run["plates"]["read"]
    assert (out / "frame_time.png").stat().st_size > 1000 and "| 1 in view | 30/30 |" in r.stdout


def test_bench_daemon_loops_a_video_without_dropping(tmp_path: Path) -> None:
    """--duration with --rate 0: the video plays again and again as one stream, every frame processed."""
    out = tmp_path / "bench"
    cmd = [sys.executable, "-m", "edge_ocr", "bench", "daemon", "--in-view", "1", "--seconds", "0.5"]
    cmd += ["--fps", "10", "--detector", "lines", "--rate", "0", "--duration", "12", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    run = json.loads((out / "summary.json").read_text())["runs"][0]
    rows = read_trace(out / "1-in-view" / "trace.csv")
    assert run["processed"] == len(rows) > 5  # more frames than the video has: it was played again
    assert run["not_processed"] == {"dropped": 0, "motion_skipped": 0, "bad": 0}
    assert all(row["status"] == "processed" for row in rows)
    assert [row["index"] for row in rows] == list(range(len(rows)))
    times = [row["timestamp"] for row in rows]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    rss = (out / "1-in-view" / "rss.csv").read_text().splitlines()
    assert rss[0] == "seconds,rss_mib" and len(rss) > 3
