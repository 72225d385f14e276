"""Save plate crops of events as JPEG files under a disk quota (oldest files go first).

An SD card that fills up takes the whole device down, so the quota is enforced after every save.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

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
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SinkError(f"{self.folder}: cannot create crop folder: {e.strerror or e}") from e

    def save(self, event: PlateEvent, crop: np.ndarray | None) -> Path | None:
        if event.kind not in self.kinds or crop is None or crop.size == 0:
            return None
        safe = "".join(c for c in event.plate if c.isalnum()) or "unknown"
        path = self.folder / f"{event.timestamp:.3f}_{event.camera}_{safe}_{event.event_id[:8]}.jpg"
        ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            return None
        try:
            path.write_bytes(data.tobytes())
        except OSError as e:
            raise SinkError(f"{path}: cannot save crop: {e.strerror or e}") from e
        self.saved += 1
        self._enforce_quota()
        return path if path.exists() else None

    def _enforce_quota(self) -> None:
        files = sorted(self.folder.glob("*.jpg"), key=lambda p: (p.stat().st_mtime, p.name))
        total = sum(p.stat().st_size for p in files)
        for p in files:
            if total <= self.quota:
                break
            total -= p.stat().st_size
            p.unlink(missing_ok=True)
            self.deleted += 1


def crop_box(image: np.ndarray, x: int, y: int, w: int, h: int, pad: float = 0.15) -> np.ndarray:
    """The plate box with a margin, clipped to the frame (a copy, so the frame can be freed)."""
    px, py = int(w * pad), int(h * pad)
    H, W = image.shape[:2]
    x0, y0 = max(0, x - px), max(0, y - py)
    x1, y1 = min(W, x + w + px), min(H, y + h + py)
    return image[y0:y1, x0:x1].copy()
