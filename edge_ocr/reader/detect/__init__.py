"""Plate detection in whole frames: the PlateDetector protocol and the registry of detectors.

A detector takes a frame (grey, BGR accepted) and returns plate proposals, best first, each with its
box, corners and a rectified grey crop (`PlateRegion`). Each detector is one module here, registered
below by name and imported only when asked for: `lines` (lines.py, the character-line finder, with
glyphs.py and geometry.py) needs only OpenCV; `cnn` (cnn.py, the learned int8 detector of
models/plate-detector, refined to the character row by refine.py) is asked for by name. This package may
import edge_ocr.types, errors, preprocess, paths, models and backends, and nothing else of edge_ocr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from edge_ocr.errors import ConfigError
from edge_ocr.paths import default_detector_dir
from edge_ocr.types import PlateRegion


class PlateDetector(Protocol):
    def detect(self, gray: np.ndarray) -> list[PlateRegion]:
        """Plate proposals in `gray` (BGR accepted), best first."""
        ...


@runtime_checkable
class TwoStepDetector(Protocol):
    """A detector whose proposals are cheap and whose refinement is not (`cnn`): a caller that
    follows plates across frames refines only the boxes it reads (Reader.propose / refine)."""

    def detect(self, gray: np.ndarray) -> list[PlateRegion]: ...

    def propose(self, image: np.ndarray) -> list[Any]:
        """Boxes (objects with `.box` and `.score`) in `image`'s pixels, best first."""
        ...

    def refine(self, gray: np.ndarray, proposal: Any) -> PlateRegion:
        """One proposal of `propose` on the same frame (`gray` of the same size) as a region."""
        ...


def _lines(threads: int) -> PlateDetector:
    from edge_ocr.reader.detect.lines import CharLineDetector

    return CharLineDetector()


def _cnn(threads: int) -> PlateDetector:
    from edge_ocr.reader.detect.cnn import CnnDetector
    from edge_ocr.reader.detect.refine import CnnLineDetector

    return CnnLineDetector(CnnDetector(default_detector_dir(), threads=threads))


def _auto(threads: int) -> PlateDetector:
    """The best measured detector: still the character-line finder. The first learned detector
    (trained 74 min on one CPU thread) put its first box on 25 % of bench/endtoend-us plates at
    IoU >= 0.5 against the line finder's 91 % (IoU >= 0.3), so it is asked for by name only."""
    return _lines(threads)


DETECTORS: dict[str, Callable[[int], PlateDetector]] = {
    "cnn": _cnn,  # learned boxes, each refined to its character row by the line finder
    "lines": _lines,  # the character-line finder alone
    "charline": _lines,  # the name before the learned detector came
    "auto": _auto,
}


def for_stream(name: str) -> str:
    """The detector `name` means on a camera stream: `auto` is the learned detector when its model is
    installed, else the line finder.

    On single photos (`edge-ocr read`) `auto` stays the line finder: on one photo it puts a box on
    more plates. A camera sees each vehicle in dozens of frames; there the learned detector read
    every vehicle the line finder read but a few misread glyphs, at half the cost or less, and
    lettered scenery costs it nothing more once proposed (docs/DAEMON.md)."""
    if name != "auto":
        return name
    return "cnn" if (default_detector_dir() / "card.json").is_file() else "lines"


def make_detector(name: str = "auto", threads: int = 1) -> PlateDetector:
    """The detector registered under `name` ('auto': the best measured one)."""
    try:
        factory = DETECTORS[name]
    except KeyError:
        raise ConfigError(f"detector: unknown name {name!r}; known: {sorted(DETECTORS)}") from None
    return factory(threads)
