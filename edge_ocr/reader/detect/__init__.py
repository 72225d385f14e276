"""Plate detection in whole frames: the PlateDetector protocol and the registry of detectors.

A detector takes a frame (grey, BGR accepted) and returns plate proposals, best first, each with its
box, corners and a rectified grey crop (`PlateRegion`). Each detector is one module here, registered
below by name and imported only when asked for: `lines` (lines.py, the character-line finder, with
glyphs.py and geometry.py) needs only OpenCV; a learned detector adds a model file. This package may
import edge_ocr.types, errors, preprocess, paths, models and backends, and nothing else of edge_ocr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from edge_ocr.errors import ConfigError
from edge_ocr.types import PlateRegion


class PlateDetector(Protocol):
    def detect(self, gray: np.ndarray) -> list[PlateRegion]:
        """Plate proposals in `gray` (BGR accepted), best first."""
        ...


def _lines() -> PlateDetector:
    from edge_ocr.reader.detect.lines import CharLineDetector

    return CharLineDetector()


DETECTORS: dict[str, Callable[[], PlateDetector]] = {
    "lines": _lines,
    "charline": _lines,  # the name before the learned detector came
    "auto": _lines,
}


def make_detector(name: str = "auto") -> PlateDetector:
    """The detector registered under `name` ('auto' is the best measured one)."""
    try:
        factory = DETECTORS[name]
    except KeyError:
        raise ConfigError(f"detector: unknown name {name!r}; known: {sorted(DETECTORS)}") from None
    return factory()
