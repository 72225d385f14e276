"""Learned plate detector (models/plate-detector): one int8 network pass per frame, then numpy decoding.

The character-line finder reads every glyph-like row of a frame, so its cost follows the texture; this
detector costs the same on every frame (a letterboxed 320x192 pass, a few ms) and returns only plates
whose heatmap peak passes a score threshold, best first, so the reader's cost follows the plate count.

Model output layout (one tensor, NHWC, stride `card["output"]["stride"]`, all channels after a sigmoid):
  0: plate-centre heatmap score in [0, 1]
  1-4, card `box` = "center" (v1): centre offset inside the cell (x, y), then sqrt(box width / input
        width), sqrt(box height / input height);
  1-4, card `box` = "ltrb" (v2): the distances from the cell's centre to the box's left, top, right
        and bottom edges, as sqrt(d / input width) for left/right and sqrt(d / input height) for
        top/bottom; trained at every cell near the plate's centre, not only at one, so the box is
        learnt from many more examples per plate.
  The square root gives small plates more of the int8 output's 256 levels.
Only numpy, OpenCV and edge_ocr.backends are used: the device never imports TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.backends import make_backend
from edge_ocr.errors import ModelError
from edge_ocr.types import Box, PlateRegion

PAD_VALUE = 114  # letterbox fill (uint8), the same in training and here
DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "models" / "plate-detector"


@dataclass(frozen=True)
class CnnParams:
    """Decoding knobs; `threshold` comes from the card (chosen on held-out training photos)."""

    threshold: float = 0.3
    nms_iou: float = 0.3
    max_proposals: int = 8
    candidates: int = 32  # peaks decoded before NMS


@dataclass(frozen=True)
class Proposal:
    """A plate box in frame pixels (float x, y, w, h) and its heatmap score."""

    x: float
    y: float
    w: float
    h: float
    score: float

    @property
    def box(self) -> Box:
        x0, y0 = int(round(self.x)), int(round(self.y))
        return Box(x0, y0, max(1, int(round(self.x + self.w)) - x0), max(1, int(round(self.y + self.h)) - y0))


def letterbox(image: np.ndarray, size: tuple[int, int], channels: int) -> tuple[np.ndarray, float]:
    """Resize `image` (BGR or grey, any size) into a (h, w, channels) uint8 canvas, top-left anchored.

    Top-left anchoring makes the inverse a single division by `scale`. Frames shrink 4-6x and plain
    linear sampling would alias plate strokes away; INTER_AREA straight from 1280x720 costs 1.75 ms
    of one core, linear to twice the target then INTER_AREA 2x costs 0.72 ms and differs from it by ~2
    grey levels on average (measured on bench photos), so large shrinks take the two-step path.
    """
    w, h = size
    if image.ndim == 2:
        image = image[..., None]
    if channels == 1 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[..., None]
    elif channels == 3 and image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    ih, iw = image.shape[:2]
    scale = min(w / iw, h / ih)
    nw, nh = max(1, int(round(iw * scale))), max(1, int(round(ih * scale)))
    if scale < 0.5:
        image = cv2.resize(image, (2 * nw, 2 * nh), interpolation=cv2.INTER_LINEAR)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    canvas = np.full((h, w, channels), PAD_VALUE, np.uint8)
    canvas[:nh, :nw] = resized.reshape(nh, nw, channels)
    return canvas, scale


def peaks(heat: np.ndarray, threshold: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the k strongest 3x3 local maxima >= threshold, strongest first.

    cv2.dilate with a 3x3 kernel is the max-pool of CenterNet: a cell is a peak when it equals its
    neighbourhood maximum, which replaces most of NMS at the cost of one dilation.
    """
    hmax = cv2.dilate(heat.astype(np.float32), np.ones((3, 3), np.uint8))
    mask = (heat >= hmax) & (heat >= threshold)
    rows, cols = np.nonzero(mask)
    order = np.argsort(-heat[rows, cols], kind="stable")[:k]
    return rows[order], cols[order]


BOX_ENCODINGS = ("center", "ltrb")


def decode(
    out: np.ndarray, stride: int, in_size: tuple[int, int], threshold: float, k: int, box: str = "center"
) -> np.ndarray:
    """Output tensor (H/s, W/s, 5) -> boxes (N, 5) [x, y, w, h, score] in input pixels, best first."""
    in_w, in_h = in_size
    rows, cols = peaks(out[..., 0], threshold, k)
    if rows.size == 0:
        return np.zeros((0, 5), np.float32)
    cell = out[rows, cols]
    if box == "ltrb":
        cx, cy = (cols + 0.5) * stride, (rows + 0.5) * stride
        left, right = np.square(cell[:, 1]) * in_w, np.square(cell[:, 3]) * in_w
        top, bottom = np.square(cell[:, 2]) * in_h, np.square(cell[:, 4]) * in_h
        return np.stack([cx - left, cy - top, left + right, top + bottom, cell[:, 0]], axis=1).astype(np.float32)
    cx = (cols + cell[:, 1]) * stride
    cy = (rows + cell[:, 2]) * stride
    bw = np.square(cell[:, 3]) * in_w
    bh = np.square(cell[:, 4]) * in_h
    return np.stack([cx - bw / 2, cy - bh / 2, bw, bh, cell[:, 0]], axis=1).astype(np.float32)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every row of a (N, >=4 [x, y, w, h]) with every row of b (M, >=4)."""
    ax0, ay0, ax1, ay1 = a[:, 0, None], a[:, 1, None], (a[:, 0] + a[:, 2])[:, None], (a[:, 1] + a[:, 3])[:, None]
    bx0, by0, bx1, by1 = b[None, :, 0], b[None, :, 1], b[None, :, 0] + b[None, :, 2], b[None, :, 1] + b[None, :, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = a[:, 2, None] * a[:, 3, None] + b[None, :, 2] * b[None, :, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def nms(boxes: np.ndarray, iou: float, keep_max: int) -> np.ndarray:
    """Greedy NMS over rows [x, y, w, h, score]; returns the kept rows, best score first."""
    order = np.argsort(-boxes[:, 4], kind="stable") if len(boxes) else np.zeros(0, np.int64)
    boxes = boxes[order]
    keep: list[int] = []
    for i in range(len(boxes)):
        if len(keep) >= keep_max:
            break
        if keep and iou_matrix(boxes[i : i + 1], boxes[keep]).max() > iou:
            continue
        keep.append(i)
    return boxes[keep]


def to_frame(boxes: np.ndarray, scale: float, frame_hw: tuple[int, int]) -> list[Proposal]:
    """Input-pixel boxes -> frame-pixel Proposals, clipped to the frame."""
    fh, fw = frame_hw
    out = []
    for x, y, w, h, s in boxes / np.array([scale, scale, scale, scale, 1.0], np.float32):
        x0, y0 = max(0.0, float(x)), max(0.0, float(y))
        x1, y1 = min(float(fw), float(x + w)), min(float(fh), float(y + h))
        if x1 > x0 and y1 > y0:
            out.append(Proposal(x0, y0, x1 - x0, y1 - y0, float(s)))
    return out


class CnnDetector:
    """Plate proposals from the int8 (default) or float detector through the shared backends."""

    def __init__(
        self,
        model_dir: str | Path = DEFAULT_MODEL,
        backend: str = "tflite",
        fmt: str = "int8",
        threads: int = 1,
        params: CnnParams | None = None,
    ) -> None:
        d = Path(model_dir)
        try:
            card = json.loads((d / "card.json").read_text(encoding="utf-8"))
            det = card["detector"]
            self.size = (int(det["input_width"]), int(det["input_height"]))
            self.channels = int(det["channels"])
            self.stride = int(det["stride"])
            self.box = str(det.get("box", "center"))
            if self.box not in BOX_ENCODINGS:
                raise ValueError(f"unknown box encoding {self.box!r}")
            entry = card["files"][f"{backend}_{fmt}"]
            path = d / str(entry["path"])
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except (OSError, KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
            raise ModelError(f"{d / 'card.json'}: not a plate-detector card or missing file: {e}") from e
        if digest != entry.get("sha256"):  # a half-copied file would silently find nothing
            raise ModelError(f"{path}: sha256 does not match card.json; the file is corrupt or the card stale")
        self.params = params or CnnParams(threshold=float(det.get("threshold", 0.3)))
        self.backend = make_backend(backend, path, threads)

    def raw(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The network's output grid (H/s, W/s, 5) for `image` and the letterbox scale."""
        canvas, scale = letterbox(image, self.size, self.channels)
        x = canvas[None].astype(np.float32) * (1.0 / 255.0)
        y = self.backend.run(x)
        w, h = self.size
        return y.reshape(h // self.stride, w // self.stride, 5), scale

    def propose(self, image: np.ndarray, threshold: float | None = None) -> list[Proposal]:
        """Plate boxes in frame pixels with score >= threshold (card's by default), best first."""
        out, scale = self.raw(image)
        t = self.params.threshold if threshold is None else threshold
        return self._proposals(out, scale, image, t, self.params.max_proposals)

    def _proposals(self, out: np.ndarray, scale: float, image: np.ndarray, threshold: float, keep: int) -> list[Proposal]:
        """The network output's boxes scoring >= threshold, after NMS (at most `keep`), in frame pixels."""
        p = self.params
        boxes = nms(decode(out, self.stride, self.size, threshold, p.candidates, self.box), p.nms_iou, keep)
        return to_frame(boxes, scale, (int(image.shape[0]), int(image.shape[1])))

    def propose_or_rescue(self, image: np.ndarray, rescue: float) -> tuple[list[Proposal], list[Proposal]]:
        """(`propose(image)`, []) from one network pass; where `propose` finds nothing, ([], the best box
        scoring at least `rescue`) (at most one).

        The Reader's FrameParams.rescue (0.15) was chosen on held-out sets (session 20, from 0.35 / 0.25
        / 0.15, by a rule written first): first reads of the swap photos 137 -> 140 of 168, of the
        composites 258 -> 283 of 430, negatives half 0 0.006 false plates per frame before and after. The
        daemon's propose/refine path has no rescue: 114 of 164 plate-free frames hold a box scoring
        0.15-0.425, so an idle camera would read one every frame, and a vehicle stays in view for many."""
        p = self.params
        out, scale = self.raw(image)
        found = self._proposals(out, scale, image, p.threshold, p.max_proposals)
        if found or rescue >= p.threshold:
            return found, []
        return [], self._proposals(out, scale, image, rescue, 1)

    def detect(self, gray: np.ndarray) -> list[PlateRegion]:
        """PlateDetector protocol: regions with an axis-aligned crop (BGR or grey, as given), best first."""
        regions = []
        for pr in self.propose(gray):
            b = pr.box
            x0, y0, x1, y1 = float(b.x), float(b.y), float(b.x + b.w), float(b.y + b.h)
            corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
            crop = gray[b.y : b.y + b.h, b.x : b.x + b.w].copy()
            regions.append(PlateRegion(b, corners, crop, pr.score))
        return regions
