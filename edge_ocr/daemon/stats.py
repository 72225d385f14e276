"""Counters and rates of the daemon, turned into the periodic stats message and systemd STATUS."""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path
from typing import TextIO

from edge_ocr.daemon.follow import FrameWork
from edge_ocr.daemon.memory import breakdown, proc_status
from edge_ocr.daemon.sinks.base import Stats
from edge_ocr.daemon.sinks.private import create_private
from edge_ocr.daemon.sources.base import CaptureStats


def rss_mb() -> float:
    """Current resident set size from /proc (Linux); 0.0 elsewhere."""
    return proc_status(("VmRSS",)).get("VmRSS", 0.0)


def peak_rss_mb() -> float:
    """Peak resident set size of this process since it started (VmHWM). Not getrusage's
    ru_maxrss: Linux carries that over from the parent at exec, so a daemon started by a larger
    process (a benchmark that has just rendered a video) would report the parent's peak."""
    hwm = proc_status(("VmHWM",)).get("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s() -> float:
    """CPU time (user + system) of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class FrameTrace:
    """`daemon.trace`: one CSV line per frame taken from the source (processed, skipped by the
    motion gate, or bad), with the loop's wall and CPU milliseconds and the plates read/followed."""

    HEADER = "index,timestamp,status,wall_ms,cpu_ms,regions,read,followed,covered,edge,still\n"

    def __init__(self, path: Path) -> None:
        create_private(path)
        self._fh: TextIO = open(path, "w", encoding="ascii")  # noqa: SIM115 - closed by close()
        self._fh.write(self.HEADER)
        self._lines = 0

    def frame(
        self,
        index: int,
        ts: float,
        status: str,
        wall_s: float = 0.0,
        cpu: float = 0.0,
        work: FrameWork | None = None,
    ) -> None:
        w = work or FrameWork()
        self._fh.write(
            f"{index},{ts:.3f},{status},{wall_s * 1000:.2f},{cpu * 1000:.2f},"
            f"{w.regions},{w.read},{w.followed},{w.covered},{w.edge},{w.still}\n"
        )
        self._lines += 1
        if self._lines % 300 == 0:  # about every 10 s at 30 fps: a reader tailing it sees progress
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class StatsKeeper:
    def __init__(self, camera: str, mono: Callable[[], float]) -> None:
        self.camera = camera
        self.mono = mono
        self.start = mono()
        self.frames_out = 0
        self.bad_frames = 0
        self.events = 0
        self.sink_errors = 0
        self.last_error = ""
        self.last_ts = 0.0
        self.work = FrameWork()  # plates read/followed/covered since start
        self._stage_sum: dict[str, float] = {}
        self._stage_n = 0
        self._due: dict[str, float] = {}
        self._mark = (self.start, 0, 0)  # time, frames_in, frames_out at the last snapshot
        self._gc_ms = 0.0  # the longest full collection since the last snapshot

    def collected(self, ms: float) -> None:
        """A full garbage collection took `ms` (runner: daemon.gc_interval_s)."""
        self._gc_ms = max(ms, self._gc_ms)

    def bad_frame(self, why: str) -> None:
        self.bad_frames += 1
        self.last_error = why

    def processed(
        self, seconds: float, timings: dict[str, float], cpu: float = 0.0, work: FrameWork | None = None
    ) -> None:
        """One frame through the reader: `seconds` wall, `cpu` seconds of the loop thread's CPU."""
        self.frames_out += 1
        self._stage_sum["total"] = self._stage_sum.get("total", 0.0) + seconds * 1000.0
        self._stage_sum["cpu"] = self._stage_sum.get("cpu", 0.0) + cpu * 1000.0
        if work is not None:
            self.work = FrameWork(*(a + b for a, b in zip(astuple(self.work), astuple(work), strict=True)))
        for stage, ms in timings.items():
            if stage != "total":
                self._stage_sum[stage] = self._stage_sum.get(stage, 0.0) + float(ms)
        self._stage_n += 1

    def due(self, what: str, interval: float) -> bool:
        now = self.mono()
        if what not in self._due:
            self._due[what] = now + interval
            return False
        if now >= self._due[what]:
            self._due[what] = now + interval
            return True
        return False

    def snapshot(
        self,
        cap: CaptureStats,
        motion_skipped: int,
        active: int,
        depth: int,
        spool_dropped: int,
        spool_failures: int = 0,
    ) -> Stats:
        """Rates since the previous snapshot, totals since start; resets the per-stage means."""
        now = self.mono()
        t0, in0, out0 = self._mark
        dt = max(1e-6, now - t0)
        stage = {k: v / self._stage_n for k, v in self._stage_sum.items()} if self._stage_n else {}
        self._stage_sum, self._stage_n = {}, 0
        self._mark = (now, cap.captured, self.frames_out)
        gc_ms, self._gc_ms = self._gc_ms, 0.0
        return Stats(
            camera=self.camera,
            uptime_s=now - self.start,
            fps_in=(cap.captured - in0) / dt,
            fps_out=(self.frames_out - out0) / dt,
            frames_in=cap.captured,
            frames_out=self.frames_out,
            dropped=cap.dropped,
            bad_frames=cap.bad_frames + self.bad_frames,
            source_errors=cap.errors,
            motion_skipped=motion_skipped,
            events=self.events,
            active_tracks=active,
            queue_depth=depth,
            spool_dropped=spool_dropped,
            stage_ms=stage,
            rss_mb=round(rss_mb(), 1),
            sink_errors=self.sink_errors,
            spool_failures=spool_failures,
            peak_rss_mb=round(peak_rss_mb(), 1),
            cpu_s=round(cpu_s(), 2),
            plates_read=self.work.read,
            plates_followed=self.work.followed,
            plates_covered=self.work.covered,
            plates_at_edge=self.work.edge,
            plates_still=self.work.still,
            memory_mb=breakdown(),
            gc_ms=round(gc_ms, 2),
        )

    def status_line(self, cap: CaptureStats, depth: int, motion_skipped: int = 0) -> str:
        """Every frame taken is accounted for: processed, dropped (live source), skipped, bad."""
        up = max(1e-6, self.mono() - self.start)
        text = (
            f"{self.frames_out / up:.1f} fps, {self.frames_out} frames, {self.events} events, "
            f"{cap.dropped} dropped, {cap.bad_frames + self.bad_frames} bad, queue {depth}"
        )
        if motion_skipped:
            text += f", {motion_skipped} skipped (no motion)"
        if self.work.regions:
            w = self.work
            text += f", plates {w.read} read, {w.followed} followed, {w.covered + w.edge + w.still} not read (inside/edge/still)"
        if self.sink_errors:
            text += f", sink errors {self.sink_errors}"
        if cap.errors:
            text += f", source errors {cap.errors} ({cap.last_error})"
        return text
