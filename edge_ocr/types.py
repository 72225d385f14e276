"""Result and message types passed between pipeline stages.

All are frozen dataclasses: stages never mutate what they were given, which keeps the pipeline
pure and lets the tracker hold on to reads from earlier frames safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixels: top-left corner, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def center(self) -> Point:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    def iou(self, other: Box) -> float:
        """Intersection over union; 0.0 when either box is empty."""
        ix = max(0, min(self.x2, other.x2) - max(self.x, other.x))
        iy = max(0, min(self.y2, other.y2) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def offset(self, dx: int, dy: int) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)

    def as_list(self) -> list[int]:
        return [int(self.x), int(self.y), int(self.w), int(self.h)]


@dataclass(frozen=True)
class Frame:
    """One image from a source. `image` is BGR uint8 (H, W, 3) or grey uint8 (H, W)."""

    image: np.ndarray
    index: int = 0
    timestamp: float = 0.0
    source: str = ""

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True)
class PlateRegion:
    """A plate candidate in a frame; `crop` is the rectified grey plate image."""

    box: Box
    corners: tuple[Point, Point, Point, Point]
    crop: np.ndarray
    score: float = 0.0
    # Optional hint from the detector: character boxes already found, in crop coordinates.
    char_boxes: tuple[CharBox, ...] = ()
    # The same plate cut another way (a learned detector's box itself, beside the character row it
    # was refined to): the fused reader reads both and keeps the likelier by the sequence model; the contour
    # reader reads it only when the first cut's read fits no region pattern (fusion.choose_cut).
    alternate: PlateRegion | None = None
    # Proposed under the detector's threshold because nothing in the frame reached it (FrameParams.rescue):
    # its read is kept only when both readers agree on a plate that fits a region pattern (fusion.sure).
    rescued: bool = False


@dataclass(frozen=True)
class CharBox:
    """A segmented character in plate-crop coordinates; `row` 0 is the top row."""

    box: Box
    row: int = 0
    dark_on_light: bool = True


@dataclass(frozen=True)
class CharPrediction:
    """Classifier output for one character box: best label and the top-k alternatives."""

    char: str
    confidence: float
    box: Box
    topk: tuple[tuple[str, float], ...] = ()
    row: int = 0


@dataclass(frozen=True)
class PlateCandidate:
    plate: str
    confidence: float
    matches_pattern: bool = False


@dataclass(frozen=True)
class PlateRead:
    """One plate read from one frame (or one crop)."""

    plate: str
    confidence: float
    region: str
    matches_pattern: bool
    box: Box
    corners: tuple[Point, Point, Point, Point]
    candidates: tuple[PlateCandidate, ...]
    chars: tuple[CharPrediction, ...]

    def to_json(self) -> dict[str, Any]:
        """The `plates[]` element of the `edge-ocr read` output contract."""
        return {
            "plate": self.plate,
            "confidence": round(float(self.confidence), 4),
            "region": self.region,
            "matches_pattern": bool(self.matches_pattern),
            "box": self.box.as_list(),
            "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners],
            "candidates": [
                {"plate": c.plate, "confidence": round(float(c.confidence), 4)} for c in self.candidates
            ],
            "chars": [
                {"char": c.char, "confidence": round(float(c.confidence), 4), "box": c.box.as_list()}
                for c in self.chars
            ],
        }


@dataclass(frozen=True)
class PlateEvent:
    """What the tracker emits for a vehicle: kind is 'new', 'update' or 'end'."""

    kind: str
    event_id: str
    camera: str
    track_id: int
    plate: str
    confidence: float
    timestamp: float
    first_seen: float
    last_seen: float
    frames: int
    box: Box
    candidates: tuple[PlateCandidate, ...] = ()
    region: str = ""
    known: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# Label alphabets shared by the models, the data loaders and the training code.
DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
PLATE_LABELS = DIGITS + UPPER
CHARS62 = DIGITS + UPPER + LOWER  # text mode: digits, then upper and lower case


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute all cost 1)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
