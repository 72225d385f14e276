"""Plate detection in whole frames: the PlateDetector protocol and the registry of detectors.

A detector takes a frame (grey, BGR accepted) and returns plate proposals, best first, each with its
box, corners and a rectified grey crop (`PlateRegion`). Each detector is one module here, registered
below by name and imported only when asked for: `lines` (lines.py, the character-line finder, with
glyphs.py and geometry.py) needs only OpenCV; `cnn` (cnn.py, the learned int8 detector of
models/plate-detector, refined to the character row by refine.py) is `auto`'s choice when installed. This package may
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


DETECTORS: dict[str, Callable[[int], PlateDetector]] = {
    "cnn": _cnn,  # learned boxes, each refined to its character row by the line finder
    "lines": _lines,  # the character-line finder alone
    "charline": _lines,  # the name before the learned detector came
}


def resolve(name: str) -> str:
    """The detector `name` means: `auto` is the learned detector when its model is installed, else the
    line finder; any other name is itself.

    On camera streams since session 9 (each vehicle is seen in dozens of frames; the learned detector read
    every vehicle the line finder read, at half the cost or less, and lettered scenery costs it nothing
    more). On single photos since session 15: on held-out crops composited into plate-free frames
    (edge_ocr.bench.fusion_photos --half 0, fused reader) its first read was exact on 58.6 % against
    the line finder's 54.0 %, with 0.04 false plates per plate-free frame against 0.44 (that half of
    negatives/ was among the detector's training frames; on the unseen half 0.04 against 0.43)."""
    if name != "auto":
        return name
    return "cnn" if (default_detector_dir() / "card.json").is_file() else "lines"


def make_detector(name: str = "auto", threads: int = 1) -> PlateDetector:
    """The detector registered under `name` ('auto': the best measured one, see `resolve`)."""
    try:
        factory = DETECTORS[resolve(name)]
    except KeyError:
        raise ConfigError(f"detector: unknown name {name!r}; known: {sorted([*DETECTORS, 'auto'])}") from None
    return factory(threads)
