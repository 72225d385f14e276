"""Motion gate: skip the plate reader on frames where nothing moved.

On a Pi most frames of a gate camera show an empty scene; comparing a small grey copy with the
previous one costs well under a millisecond and saves the whole detection pass. A skipped frame
tells the tracker that the scene is as it was, so a parked car stays one live track without
being re-read every frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_ocr.daemon.config import MotionConfig
from edge_ocr.types import Box


class MotionGate:
    """Frame-level gate (skip unchanged frames) and box-level motion (did this plate move?).

    `analyse` computes the difference image even with the gate off, for `moved()`.
    """

    def __init__(self, config: MotionConfig, analyse: bool = False) -> None:
        self.cfg = config
        self.analyse = config.enabled or analyse
        self._prev: np.ndarray | None = None
        self._mask: np.ndarray | None = None  # changed pixels of the last frame, at the small size
        self.skipped = 0

    def _small(self, image: np.ndarray) -> np.ndarray:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape[:2]
        width = min(self.cfg.width, w)
        small = cv2.resize(grey, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (5, 5), 0)

    def changed(self, image: np.ndarray, force: bool = False) -> bool:
        """True when enough pixels changed since the last frame looked at (or when forced)."""
        if not self.analyse:
            return True
        small = self._small(image)
        prev, self._prev = self._prev, small
        if prev is None or prev.shape != small.shape:
            self._mask = None
            return True
        self._mask = cv2.absdiff(small, prev) > self.cfg.pixel_delta
        fraction = float(np.count_nonzero(self._mask)) / self._mask.size
        if force or not self.cfg.enabled or fraction >= self.cfg.min_changed:
            return True
        self.skipped += 1
        return False

    def moved(self, box: Box, frame_width: int, min_fraction: float = 0.05) -> bool:
        """Did the last frame change inside `box` (frame pixels)? Unknown (first frame) is no.

        Text painted on the scenery (signs, road texture read as a plate) never moves; a
        vehicle's plate does, at least while it arrives.
        """
        if self._mask is None or frame_width <= 0:
            return False
        f = self._mask.shape[1] / frame_width
        x0, y0 = int(box.x * f), int(box.y * f)
        x1, y1 = max(x0 + 1, int(np.ceil(box.x2 * f))), max(y0 + 1, int(np.ceil(box.y2 * f)))
        region = self._mask[max(0, y0) : y1, max(0, x0) : x1]
        return region.size == 0 or float(region.mean()) >= min_fraction
