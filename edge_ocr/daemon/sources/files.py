"""Image-folder source: every image in a folder, in name order, as one frame each.

Useful for replaying stills from a camera that saves JPEGs, and for tests. A file that does not
decode is a BadFrame (skipped and counted), not the end of the run.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.daemon.sources.base import BadFrame, EndOfStream
from edge_ocr.errors import SourceError
from edge_ocr.types import Frame

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
MAX_FILE_BYTES = 64 * 1024 * 1024


class FolderSource:
    def __init__(
        self,
        folder: str,
        camera: str = "cam0",
        fps: float = 10.0,
        playback_rate: float = 0.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.folder = Path(folder)
        self.name = camera
        self.live = playback_rate > 0
        self._period = 1.0 / fps
        self._rate = playback_rate
        self._clock = clock
        self._sleep = sleep
        self._files: list[Path] = []
        self._index = 0
        self._t0 = 0.0

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder}: image folder not found")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        self._index = 0
        self._t0 = self._clock()

    def read(self) -> Frame:
        if self._index >= len(self._files):
            raise EndOfStream(f"{self.folder}: no more images")
        index = self._index
        self._index += 1
        ts = self._t0 + index * self._period
        if self._rate > 0:
            wait = self._t0 + index * self._period / self._rate - self._clock()
            if wait > 0:
                self._sleep(wait)
        path = self._files[index]
        image = self._decode(path)
        return Frame(image=image, index=index, timestamp=ts, source=self.name)

    @staticmethod
    def _decode(path: Path) -> np.ndarray:
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):  # a FIFO would block np.fromfile for ever
                raise BadFrame(f"{path}: not a regular file")
            if st.st_size > MAX_FILE_BYTES:
                raise BadFrame(f"{path}: larger than {MAX_FILE_BYTES} bytes")
            data = np.fromfile(path, dtype=np.uint8)
        except OSError as e:
            raise BadFrame(f"{path}: {e.strerror or e}") from e
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if image is None:
            raise BadFrame(f"{path}: not a decodable image")
        return image

    def close(self) -> None:
        self._files = []
