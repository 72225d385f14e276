"""The character-line plate finder (`lines`): every row of glyph-like blobs is a plate proposal.

glyphs.py finds the blobs and groups them into rows; geometry.py fits the row and boxes it with
plate proposals, ranked by how plate-like the row is. It favours recall: the reader reads the top
few proposals with the character classifier and keeps plausible reads, which is a far stronger
verifier than any hand-made plate score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge_ocr.preprocess import to_gray
from edge_ocr.reader.detect.geometry import (
    PlateGeometry,
    bounding_box,
    crop_char_boxes,
    fit_line,
    ink_score,
    line_score,
    plate_corners,
    rectify,
)
from edge_ocr.reader.detect.glyphs import CharLine, LineParams, glyph_candidates, group_lines
from edge_ocr.types import Box, PlateRegion


@dataclass(frozen=True)
class CharLineConfig:
    """Search range and output size of the character-line detector.

    `work_max_side` bounds the cost on big frames; the pyramid (factor 2 per level) extends the
    glyph height range of LineParams to large plates close to the camera.
    """

    work_max_side: int = 1600
    levels: int = 3
    max_proposals: int = 12
    nms_iou: float = 0.4
    min_score: float = 0.03  # proposals below this are dropped before NMS (set on composites)
    lines: LineParams = field(default_factory=LineParams)
    geometry: PlateGeometry = field(default_factory=PlateGeometry)


@dataclass(frozen=True)
class _Proposal:
    box: Box
    line: CharLine
    scale: float
    score: float


class CharLineDetector:
    """Rows of equal-height glyphs anywhere in the frame, boxed with plate geometry."""

    def __init__(self, config: CharLineConfig | None = None) -> None:
        self.config = config or CharLineConfig()

    def detect(self, gray: np.ndarray) -> list[PlateRegion]:
        gray = to_gray(np.asarray(gray))
        if gray.dtype != np.uint8:
            gray = _to_u8(gray)
        if gray.ndim != 2 or min(gray.shape) < self.config.lines.min_h * 2:
            return []
        proposals = self._proposals(gray)
        kept = _nms(proposals, self.config.nms_iou)[: self.config.max_proposals]
        return [self._region(gray, p) for p in kept]

    def _proposals(self, gray: np.ndarray) -> list[_Proposal]:
        cfg = self.config
        h, w = gray.shape
        scale = min(1.0, cfg.work_max_side / max(h, w))
        level = gray if scale == 1.0 else _resize(gray, scale)
        out: list[_Proposal] = []
        for _ in range(cfg.levels):
            if min(level.shape) < cfg.lines.min_h * 2:
                break
            for boxes, dark in glyph_candidates(level, cfg.lines):
                for line in group_lines(boxes, dark, cfg.lines):
                    prop = self._score(gray, line, scale)
                    if prop is not None:
                        out.append(prop)
            scale /= 2.0
            level = _resize(level, 0.5)
        return out

    def _score(self, gray: np.ndarray, line: CharLine, scale: float) -> _Proposal | None:
        h, w = gray.shape
        boxes = line.boxes / scale
        fit = fit_line(boxes)
        if fit is None or abs(math.degrees(fit.angle)) > self.config.geometry.max_angle_deg:
            return None
        score = line_score(boxes, fit)
        if score > 0.0:
            ink = ink_score(gray, boxes, line.dark)
            score *= 0.25 + 0.75 * ink.score
        if score <= self.config.min_score:
            return None
        corners = plate_corners(fit, self.config.geometry)
        box = bounding_box(corners, w, h)
        if box.area == 0:
            return None
        return _Proposal(box, CharLine(boxes, line.dark), 1.0, score)

    def _region(self, gray: np.ndarray, p: _Proposal) -> PlateRegion:
        fit = fit_line(p.line.boxes)
        assert fit is not None
        corners = plate_corners(fit, self.config.geometry, self.config.geometry.crop_margin)
        crop, m = rectify(gray, corners)
        chars = crop_char_boxes(p.line.boxes, m, p.line.dark, crop.shape[1])
        return PlateRegion(box=p.box, corners=corners, crop=crop, score=p.score, char_boxes=chars)


def _to_u8(img: np.ndarray) -> np.ndarray:
    """Other depths (16-bit, float) are stretched to 0..255 rather than rejected."""
    f = img.astype(np.float32)
    lo, hi = float(f.min()), float(f.max())
    return ((f - lo) * (255.0 / max(hi - lo, 1e-6))).astype(np.uint8)


def _resize(img: np.ndarray, f: float) -> np.ndarray:
    size = (max(1, int(round(img.shape[1] * f))), max(1, int(round(img.shape[0] * f))))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _nms(props: list[_Proposal], iou: float) -> list[_Proposal]:
    kept: list[_Proposal] = []
    for p in sorted(props, key=lambda q: -q.score):
        if all(p.box.iou(k.box) <= iou for k in kept):
            kept.append(p)
    return kept
