"""Save plate crops of events as JPEG files under a disk quota (oldest files go first).

An SD card that fills up takes the whole device down, so the quota is checked after every save.
The saver keeps only the total of bytes kept, not a list of the files: a ledger of names grew with
every crop until the quota was full (about 13,500 crops at the default 100 MB, 1.9 MB of Python
strings spread over the heap, the one structure of the daemon that grew in its 30-minute runs).
When a save takes the total over the quota, the folder is listed once and the oldest crops are
deleted down to `low_water` of the quota (90 %), so the listing (154 ms at 10,000 files, inside the
frame loop) comes once per tenth of the quota, not once per save. Files and folders are created
0600/0700.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.daemon.sinks.private import private_dirs, write_private
from edge_ocr.errors import SinkError
from edge_ocr.types import PlateEvent


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
        self.listings = 0  # times the folder was listed (at start, and each time the quota was hit)
        try:
            private_dirs(self.folder)
            self.total = sum(size for _t, _n, size in self._listing())
        except OSError as e:
            raise SinkError(f"{self.folder}: cannot open crop folder: {e.strerror or e}") from e

    def _listing(self) -> list[tuple[int, str, int]]:
        """(mtime ns, name, size) of the crops in the folder, oldest first."""
        self.listings += 1
        found = []
        with os.scandir(self.folder) as it:
            for entry in it:
                if not entry.name.endswith(".jpg"):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue  # removed meanwhile
                found.append((st.st_mtime_ns, entry.name, st.st_size))
        found.sort()
        return found

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
        as well (a crop larger than that alone)."""
        try:
            found = self._listing()
        except OSError as e:
            raise SinkError(f"{self.folder}: cannot list crop folder: {e.strerror or e}") from e
        total = sum(size for _t, _n, size in found)
        target = self.quota * self.low_water
        kept = True
        for _t, name, size in found:
            if total <= target:
                break
            (self.folder / name).unlink(missing_ok=True)  # an operator may have removed it already
            total -= size
            self.deleted += 1
            kept = kept and name != newest.name
        self.total = total
        return kept


def crop_box(image: np.ndarray, x: int, y: int, w: int, h: int, pad: float = 0.15) -> np.ndarray:
    """The plate box with a margin, clipped to the frame (a copy, so the frame can be freed)."""
    px, py = int(w * pad), int(h * pad)
    H, W = image.shape[:2]
    x0, y0 = max(0, x - px), max(0, y - py)
    x1, y1 = min(W, x + w + px), min(H, y + h + py)
    return image[y0:y1, x0:x1].copy()
