"""Stopping under systemd: a SIGTERM while the daemon is still starting ends it cleanly, and the
spool drain only gets what daemon.stop_timeout_s (the unit's TimeoutStopSec) leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from test_daemon import StubReader, folder_with_frames

from edge_ocr.daemon.config import Config, DaemonConfig, LogConfig, MqttConfig, SourceConfig, TrackerConfig
from edge_ocr.daemon.notify import Notifier
from edge_ocr.daemon.runner import Runner
from edge_ocr.daemon.sinks.base import Stats
from edge_ocr.daemon.sinks.log import JsonLinesSink
from edge_ocr.daemon.sources import make_source
from edge_ocr.types import PlateEvent

REPO = Path(__file__).resolve().parent.parent


def catches_sigterm(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def test_sigterm_while_starting_ends_cleanly(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "blank.png"), np.zeros((72, 128, 3), np.uint8))
    cfg = tmp_path / "c.toml"
    source = f'[source]\nkind = "folder"\nuri = {json.dumps(str(frames))}\nexit_at_end = false\n'
    cfg.write_text(source + f"[log]\npath = {json.dumps(str(tmp_path / 'ev.jsonl'))}\n")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_ocr", "run", "--config", str(cfg)],
        cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    while not catches_sigterm(proc.pid):
        assert proc.poll() is None and time.monotonic() - t0 < 30
        time.sleep(0.002)
    installed = time.monotonic() - t0
    proc.send_signal(signal.SIGTERM)  # still importing OpenCV / loading the model
    _out, err = proc.communicate(timeout=60)
    print(f"handlers installed {1000 * installed:.0f} ms after exec; exit {proc.returncode}")
    assert proc.returncode == 0, err
    assert "stopped: " in err and "Traceback" not in err


class SlowSink(JsonLinesSink):
    """Its last stats take `delay` seconds; records the drain time it is given."""

    def __init__(self, path: str, delay: float) -> None:
        super().__init__(path)
        self.delay = delay
        self.given: float | None = None

    def publish_stats(self, stats: Stats) -> None:
        time.sleep(self.delay)

    def emit(self, event: PlateEvent) -> None:
        pass

    def close(self, timeout: float = 0.0) -> None:
        self.given = timeout
        super().close(timeout)


def test_drain_gets_only_what_the_stop_timeout_leaves(tmp_path: Path) -> None:
    folder = folder_with_frames(tmp_path / "frames", 3)
    cfg = Config(
        source=SourceConfig(kind="folder", uri=str(folder), camera="t"),
        tracker=TrackerConfig(require_motion=False),
        log=LogConfig(path=str(tmp_path / "ev.jsonl")),
        mqtt=MqttConfig(drain_timeout_s=3.0),
        daemon=DaemonConfig(idle_timeout_s=0.05, stop_timeout_s=8.0),  # 3 + 5 s margin: valid
    )
    fast, slow = SlowSink(cfg.log.path, 0.0), SlowSink(cfg.log.path, 1.0)
    for sink in (fast, slow):
        assert Runner(cfg, StubReader(), make_source(cfg.source), [sink], Notifier({})).run() == 0
    assert fast.given is not None and 2.8 <= fast.given <= 3.0  # about the configured drain
    assert slow.given is not None and 1.7 <= slow.given <= 2.05  # 8 - 5 - the 1 s the stats took
