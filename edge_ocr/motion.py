"""Motion gate: skip the plate reader on frames where nothing moved.

On a Pi most frames of a gate camera show an empty scene; comparing a small grey copy with the
previous one costs well under a millisecond and saves the whole detection pass. A skipped frame
tells the tracker that the scene is as it was, so a parked car stays one live track without
being re-read every frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_ocr.config import MotionConfig


class MotionGate:
    def __init__(self, config: MotionConfig) -> None:
        self.cfg = config
        self._prev: np.ndarray | None = None
        self.skipped = 0

    def _small(self, image: np.ndarray) -> np.ndarray:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape[:2]
        width = min(self.cfg.width, w)
        small = cv2.resize(grey, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (5, 5), 0)

    def changed(self, image: np.ndarray, force: bool = False) -> bool:
        """True when enough pixels changed since the last frame looked at (or when forced)."""
        if not self.cfg.enabled:
            return True
        small = self._small(image)
        prev, self._prev = self._prev, small
        if force or prev is None or prev.shape != small.shape:
            return True
        diff = cv2.absdiff(small, prev)
        fraction = float(np.count_nonzero(diff > self.cfg.pixel_delta)) / diff.size
        if fraction >= self.cfg.min_changed:
            return True
        self.skipped += 1
        return False
