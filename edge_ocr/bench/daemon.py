"""`edge-ocr bench daemon VIDEO`: the real `edge-ocr run` on a video file, measured from outside.

The daemon runs as a subprocess on a config written here (the video as an OpenCV source, one
thread, a JSON-lines log with stats, `daemon.trace` for one line per frame; optionally MQTT and
crops), so what is measured is what a device runs: frames/s processed, CPU per frame (the loop's
thread, from the trace, and the whole process, from wait4), peak RSS (its VmHWM) and RSS over time
(sampled from /proc, for the slope of a long run), events written and, when the video has a truth
file (edge_ocr/synth/video.py), one `new` per vehicle with the right plate.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_ocr.daemon.memory import proc_status
from edge_ocr.errors import ConfigError


@dataclass(frozen=True)
class DaemonRun:
    """How to run the daemon on one video."""

    video: Path
    out: Path
    detector: str = "auto"
    threads: int = 1
    playback_rate: float = 0.0  # 0: every frame, as fast as it goes; 1: real time (a camera)
    duration_s: float = 0.0  # > 0: loop the video and stop the daemon (SIGTERM) after this long
    mqtt: str = ""  # host:port of a broker: the MQTT sink (and its spool) on
    crops: bool = False
    crops_quota_mb: float = 0.0  # > 0: the crop folder's quota (crops.quota_mb); 0: the daemon's default
    motion: bool = False
    lores: str = ""  # WxH: detect on a copy this small (source.lores), read from the full frame
    python: str = ""  # the interpreter of the install to measure (a device venv); default this one
    follow: bool = True  # false: read every frame whole (the daemon before issue 13), to compare
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class Measured:
    """What the parent saw of one daemon run."""

    returncode: int
    wall_s: float
    cpu_s: float  # user + system of the daemon process, all threads, start-up included
    peak_rss_mib: float
    rss: list[tuple[float, float]]  # (seconds since start, MiB)
    stderr_tail: str


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def write_config(run: DaemonRun) -> Path:
    """The daemon's config for this run, in `run.out`."""
    run.out.mkdir(parents=True, exist_ok=True)
    looping = run.duration_s > 0
    lines = [
        "[source]",
        f"uri = {_toml_str(str(run.video.resolve()))}",
        'camera = "bench"',
        f"playback_rate = {run.playback_rate:g}",
        f"exit_at_end = {'false' if looping else 'true'}",
        *_lores_lines(run.lores),
        "[reader]",
        f"threads = {run.threads}",
        f"detector = {_toml_str(run.detector)}",
        "[tracker]",
        f"follow = {'true' if run.follow else 'false'}",
        "[motion]",
        f"enabled = {'true' if run.motion else 'false'}",
        "[log]",
        f"path = {_toml_str(str((run.out / 'events.jsonl').resolve()))}",
        "stats = true",
        "[daemon]",
        f"stats_interval_s = {60.0 if looping else 3600.0}",
        f"trace = {_toml_str(str((run.out / 'trace.csv').resolve()))}",
    ]
    if run.mqtt:
        host, _, port = run.mqtt.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--mqtt: expected HOST:PORT, got {run.mqtt!r}")
        # A client id of its own: two benches on one broker with the same id (edge-ocr-<camera>)
        # take the session from each other, and both reconnect again and again.
        client = f"edge-ocr-bench-{os.getpid()}-{run.out.name}"
        lines += ["[mqtt]", "enabled = true", f"host = {_toml_str(host)}", f"port = {port}"]
        lines += [f"client_id = {_toml_str(client)}"]
        lines += ["[spool]", f"path = {_toml_str(str((run.out / 'spool.sqlite3').resolve()))}"]
    if run.crops:
        lines += ["[crops]", "enabled = true", f"dir = {_toml_str(str((run.out / 'crops').resolve()))}"]
        if run.crops_quota_mb > 0:
            lines += [f"quota_mb = {run.crops_quota_mb}"]
    path = run.out / "daemon.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lores_lines(lores: str) -> list[str]:
    if not lores:
        return []
    w, _, h = lores.partition("x")
    if not (w.isdigit() and h.isdigit()):
        raise ConfigError(f"--lores: expected WIDTHxHEIGHT, got {lores!r}")
    return ["lores = true", f"lores_width = {w}", f"lores_height = {h}"]


def _status_mib(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a process in MiB, from /proc; None once it is gone."""
    got = proc_status(("VmRSS", "VmHWM"), pid)
    return (got["VmRSS"], got["VmHWM"]) if len(got) == 2 else None


def run_daemon(run: DaemonRun, sample_s: float = 0.5) -> Measured:
    """Start `edge-ocr run` on the config, sample its RSS, stop it after `duration_s` if set."""
    for name in ("events.jsonl", "trace.csv"):
        (run.out / name).unlink(missing_ok=True)
    config = write_config(run)
    env = {**os.environ, "OMP_NUM_THREADS": str(run.threads), "PYTHONUNBUFFERED": "1", **run.extra_env}
    cmd = [run.python or sys.executable, "-m", "edge_ocr", "run", "--config", str(config)]
    errlog = run.out / "daemon.stderr"
    t0 = time.monotonic()
    with open(errlog, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        rss: list[tuple[float, float]] = []
        hwm = 0.0
        stopped = False
        while True:
            # wait4, not poll(): the rusage of this child alone (RUSAGE_CHILDREN sums them all)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            now = time.monotonic() - t0
            got = _status_mib(proc.pid)
            if got is not None:
                rss.append((round(now, 2), round(got[0], 2)))
                hwm = max(hwm, got[1])
            if run.duration_s > 0 and now >= run.duration_s and not stopped:
                proc.send_signal(signal.SIGTERM)
                stopped = True
            time.sleep(sample_s)
    wall = time.monotonic() - t0
    tail = errlog.read_text(encoding="utf-8", errors="replace")[-2000:]
    cpu = usage.ru_utime + usage.ru_stime
    # The peak is the child's own high-water mark (VmHWM, last sampled <= sample_s before it
    # exits; summarize() adds the daemon's final stats), not wait4's ru_maxrss: Linux carries
    # that over from this process at exec, so a bench that has just rendered a video would
    # report its own peak as the daemon's.
    return Measured(proc.returncode, wall, cpu, hwm, rss, tail)


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The daemon's per-frame trace (daemon.trace) as dicts with numbers."""
    import csv

    with open(path, encoding="ascii") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        d: dict[str, Any] = {"status": r["status"], "index": int(r["index"])}
        for k in ("timestamp", "wall_ms", "cpu_ms"):
            d[k] = float(r[k])
        for k in ("regions", "read", "followed", "covered", "edge", "still"):
            d[k] = int(r[k])
        out.append(d)
    return out


def read_log(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events, stats messages in order) of the daemon's JSON-lines log."""
    events, stats = [], []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            msg = json.loads(line)
            if msg.get("schema") == "edge_ocr.event/1":
                events.append(msg)
            elif msg.get("schema") == "edge_ocr.stats/1":
                stats.append(msg)
    return events, stats
