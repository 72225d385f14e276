"""Sink protocol and the versioned JSON schema of events and stats.

Consumers (Home Assistant, a script on a server) outlive firmware versions, so every message
carries `schema`; a change that breaks readers bumps the number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from edge_ocr.types import PlateEvent

EVENT_SCHEMA = "edge_ocr.event/1"
STATS_SCHEMA = "edge_ocr.stats/1"


def iso_time(t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=dt.UTC).isoformat(timespec="milliseconds")


def event_to_json(event: PlateEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema": EVENT_SCHEMA,
        "event_id": event.event_id,
        "kind": event.kind,
        "camera": event.camera,
        "track_id": event.track_id,
        "plate": event.plate,
        "confidence": round(float(event.confidence), 4),
        "region": event.region,
        "time": iso_time(event.timestamp),
        "timestamp": round(event.timestamp, 3),
        "first_seen": round(event.first_seen, 3),
        "last_seen": round(event.last_seen, 3),
        "frames": event.frames,
        "box": event.box.as_list(),
        "candidates": [{"plate": c.plate, "confidence": c.confidence} for c in event.candidates],
        "known": event.known,
    }
    if event.extra:
        out["extra"] = dict(event.extra)
    return out


@dataclass(frozen=True)
class Stats:
    """A periodic health snapshot (rates over the last interval, totals since start)."""

    camera: str
    uptime_s: float
    fps_in: float
    fps_out: float
    frames_in: int
    frames_out: int
    dropped: int
    bad_frames: int
    source_errors: int
    motion_skipped: int
    events: int
    active_tracks: int
    queue_depth: int
    spool_dropped: int
    stage_ms: dict[str, float] = field(default_factory=dict)
    rss_mb: float = 0.0
    sink_errors: int = 0  # emits a sink refused (a log file that cannot be written, ...)
    spool_failures: int = 0  # MQTT messages the spool could not take at once (held in memory, retried)
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0  # process CPU time (user + system) since start, every thread
    plates_read: int = 0  # detected regions read (segment, classify, assemble), since start
    plates_followed: int = 0  # regions of a settled track: its box followed, not read
    plates_covered: int = 0  # regions inside a followed plate (its state name, slogan): not read
    plates_at_edge: int = 0  # regions cut by the frame border (a vehicle arriving or leaving): not read
    plates_still: int = 0  # still regions whose last read (< tracker.recheck_s ago) found no plate: not read
    memory_mb: dict[str, float] = field(default_factory=dict)  # daemon/memory.py: breakdown()
    gc_ms: float = 0.0  # the longest full collection (daemon.gc_interval_s) since the last stats; 0: none

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["schema"] = STATS_SCHEMA
        d["uptime_s"] = round(self.uptime_s, 1)
        d["fps_in"] = round(self.fps_in, 2)
        d["fps_out"] = round(self.fps_out, 2)
        d["stage_ms"] = {k: round(v, 2) for k, v in self.stage_ms.items()}
        return d


class Sink(Protocol):
    def emit(self, event: PlateEvent) -> None: ...

    def publish_stats(self, stats: Stats) -> None: ...

    def reopen(self) -> None:
        """SIGHUP: reopen files (log rotation)."""
        ...

    def close(self, timeout: float) -> None:
        """Flush what is pending (up to `timeout` seconds) and release resources."""
        ...

    def queue_depth(self) -> int:
        """Messages still to deliver, wherever they wait (disk or memory)."""
        ...

    def dropped(self) -> int: ...

    def failures(self) -> int:
        """Writes that failed and are being retried (counted, not lost)."""
        ...
