"""Save plate crops of events as JPEG files under a disk quota (oldest files go first).

An SD card that fills up takes the whole device down, so the quota is checked after every save.
The saver keeps only the total of bytes kept, not a list of the files: a ledger of names grew with
every crop until the quota was full (about 13,500 crops at the default 100 MB, 1.9 MB of Python
strings spread over the heap, the one structure of the daemon that grew in its 30-minute runs).
When a save takes the total over the quota, the folder is scanned once and the oldest crops are
deleted down to `low_water` of the quota (90 %), so the scan (154 ms at 10,000 files, inside the
frame loop) comes once per tenth of the quota, not once per save. The scan holds only the oldest
crops it may delete (about a tenth of the folder), never the whole listing: a list of all 14,000
names at the default quota was 3 MiB of Python objects, and the first time the quota was hit (50
minutes into a 75-minute run) the daemon's resident memory rose 3.2 MiB and stayed there, since
Python's allocator keeps the arenas it has carved. Files and folders are created 0600/0700.
"""

from __future__ import annotations

import heapq
import os
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.daemon.sinks.private import private_dirs, write_private
from edge_ocr.errors import SinkError
from edge_ocr.types import PlateEvent


class _Held:
    """A crop a scan holds; the heap's order is newest first (by mtime, then name), so its top is the
    crop to drop when the older ones cover what must be deleted."""

    __slots__ = ("mtime_ns", "name", "size")

    def __init__(self, mtime_ns: int, name: str, size: int):
        self.mtime_ns, self.name, self.size = mtime_ns, name, size

    def __lt__(self, other: _Held) -> bool:
        return (self.mtime_ns, self.name) > (other.mtime_ns, other.name)


class CropSaver:
    def __init__(
        self,
        folder: str | Path,
        quota_bytes: int,
        kinds: tuple[str, ...] = ("new", "update"),
        low_water: float = 0.9,
    ):
        self.folder = Path(folder)
        self.quota = quota_bytes
        self.kinds = kinds
        self.low_water = low_water
        self.saved = 0
        self.deleted = 0
        self.listings = 0  # times the folder was scanned (at start, and each time the quota was hit)
        self.held = 0  # the most crops one scan held (the oldest it might delete)
        try:
            private_dirs(self.folder)
            self.total = self._scan(0)[0]
        except OSError as e:
            raise SinkError(f"{self.folder}: cannot open crop folder: {e.strerror or e}") from e

    def _scan(self, excess: int) -> tuple[int, list[tuple[int, str, int]]]:
        """One pass over the folder: the total bytes of its crops, and the oldest crops whose sizes
        add up to at least `excess` as (mtime ns, name, size), oldest first. Only those are held:
        a max-heap by age drops the newest held crop whenever the rest still cover `excess`."""
        self.listings += 1
        total = 0
        held: list[_Held] = []  # a heap with the newest on top
        held_bytes = 0
        with os.scandir(self.folder) as it:
            for entry in it:
                if not entry.name.endswith(".jpg"):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue  # removed meanwhile
                total += st.st_size
                if held_bytes >= excess and held and (st.st_mtime_ns, entry.name) > (held[0].mtime_ns, held[0].name):
                    continue  # newer than all it holds, and those cover the excess already
                heapq.heappush(held, _Held(st.st_mtime_ns, entry.name, st.st_size))
                held_bytes += st.st_size
                while held and held_bytes - held[0].size >= excess:
                    held_bytes -= heapq.heappop(held).size
        self.held = max(self.held, len(held))
        return total, sorted((h.mtime_ns, h.name, h.size) for h in held)

    def save(self, event: PlateEvent, crop: np.ndarray | None) -> Path | None:
        if event.kind not in self.kinds or crop is None or crop.size == 0:
            return None
        safe = "".join(c for c in event.plate if c.isalnum()) or "unknown"
        path = self.folder / f"{event.timestamp:.3f}_{event.camera}_{safe}_{event.event_id[:8]}.jpg"
        ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            return None
        try:
            write_private(path, data.tobytes())
        except OSError as e:
            raise SinkError(f"{path}: cannot save crop: {e.strerror or e}") from e
        self.saved += 1
        self.total += int(data.size)
        kept = self._enforce_quota(path) if self.total > self.quota else True
        return path if kept else None

    def _enforce_quota(self, newest: Path) -> bool:
        """Delete the oldest crops down to `low_water` of the quota; False if the newest had to go
        as well (a crop larger than that alone). The excess to delete is first judged from the
        running total; if the folder holds more than that (crops copied in by hand), it is
        scanned again for the rest."""
        target = int(self.quota * self.low_water)
        kept = True
        excess = self.total - target
        while True:
            try:
                total, oldest = self._scan(excess)
            except OSError as e:
                raise SinkError(f"{self.folder}: cannot list crop folder: {e.strerror or e}") from e
            for _t, name, size in oldest:
                if total <= target:
                    break
                (self.folder / name).unlink(missing_ok=True)  # an operator may have removed it already
                total -= size
                self.deleted += 1
                kept = kept and name != newest.name
            self.total = total
            if total <= target or not oldest:
                return kept
            excess = total - target


def crop_box(image: np.ndarray, x: int, y: int, w: int, h: int, pad: float = 0.15) -> np.ndarray:
    """The plate box with a margin, clipped to the frame (a copy, so the frame can be freed)."""
    px, py = int(w * pad), int(h * pad)
    H, W = image.shape[:2]
    x0, y0 = max(0, x - px), max(0, y - py)
    x1, y1 = min(W, x + w + px), min(H, y + h + py)
    return image[y0:y1, x0:x1].copy()
