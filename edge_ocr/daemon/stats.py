"""Counters and rates of the daemon, turned into the periodic stats message and systemd STATUS."""

from __future__ import annotations

from collections.abc import Callable

from edge_ocr.daemon.sinks.base import Stats
from edge_ocr.daemon.sources.base import CaptureStats


def rss_mb() -> float:
    """Current resident set size from /proc (Linux); 0.0 elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


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
        self._stage_sum: dict[str, float] = {}
        self._stage_n = 0
        self._due: dict[str, float] = {}
        self._mark = (self.start, 0, 0)  # time, frames_in, frames_out at the last snapshot

    def bad_frame(self, why: str) -> None:
        self.bad_frames += 1
        self.last_error = why

    def processed(self, seconds: float, timings: dict[str, float]) -> None:
        self.frames_out += 1
        self._stage_sum["total"] = self._stage_sum.get("total", 0.0) + seconds * 1000.0
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
        )

    def status_line(self, cap: CaptureStats, depth: int) -> str:
        up = max(1e-6, self.mono() - self.start)
        text = (
            f"{self.frames_out / up:.1f} fps, {self.frames_out} frames, {self.events} events, "
            f"{cap.dropped} dropped, {cap.bad_frames + self.bad_frames} bad, queue {depth}"
        )
        if self.sink_errors:
            text += f", sink errors {self.sink_errors}"
        if cap.errors:
            text += f", source errors {cap.errors} ({cap.last_error})"
        return text
