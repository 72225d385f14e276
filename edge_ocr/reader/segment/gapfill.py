"""Find characters the contour segmenter missed, where the line says one should be.

Once a plate's line is read, its characters tell the height, pitch and baseline of the line. A
gap wider than a character inside the line, or a character-sized slot just past either end, is
searched again with a threshold of its own (a local Otsu adapts to the shading, paint or frame that
made the global thresholds merge or lose the character), and a component of line height found there
is kept only if the classifier reads it confidently. The classifier, not a geometric rule, decides.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from edge_ocr.reader.segment.linegrid import (
    BARS,
    NARROW,
    Classify,
    GapParams,
    LineGrid,
    line_of,
    not_frame,
    overlaps,
    slots,
)
from edge_ocr.types import Box, CharBox, CharPrediction

DEFAULT_GAPS = GapParams()


def _component_at(gray: np.ndarray, cx: float, line: LineGrid, p: GapParams) -> Box | None:
    """The line-height component nearest the slot centre, thresholded locally.

    The window is wide enough for a W or M, and ink outside the line's band is cut away first, so
    a character touching a sticker, bolt or slogan below or above it still stands alone.
    """
    h_img, w_img = gray.shape[:2]
    cy = line.centre_y(cx)
    half_w, half_h = p.window * line.width, 0.75 * line.height
    x1, x2 = max(0, int(cx - half_w)), min(w_img, int(cx + half_w))
    y1, y2 = max(0, int(cy - half_h)), min(h_img, int(cy + half_h))
    if x2 - x1 < 0.5 * line.width or y2 - y1 < line.height:
        return None
    win = gray[y1:y2, x1:x2]
    flag = cv2.THRESH_BINARY_INV if line.dark_on_light else cv2.THRESH_BINARY
    _, ink = cv2.threshold(win, 0, 255, flag + cv2.THRESH_OTSU)
    outside = np.abs(np.arange(y1, y2) - cy) > p.band * line.height
    ink[outside] = 0  # rows outside the line's band
    rows = np.flatnonzero(~outside)
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    n, _, stats, cent = cv2.connectedComponentsWithStats(ink, connectivity=8)
    best: tuple[float, Box] | None = None
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if abs(h - line.height) > p.height_tol * line.height or w > p.max_width * line.width:
            continue
        if y == top and y + h == bottom and y1 + top > 0 and y1 + bottom < h_img:
            continue  # cut by both edges of the band: a frame edge or separator running through it
        if x == 0 or x + w >= win.shape[1]:  # cut by the window: a neighbour or the frame
            continue
        if abs(y + h / 2 + y1 - cy) > 0.25 * line.height:
            continue
        dist = abs(cent[i][0] + x1 - cx)
        if best is None or dist < best[0]:
            best = (dist, Box(int(x + x1), int(y + y1), int(w), int(h)))
    return best[1] if best else None


def fill_gaps(
    gray: np.ndarray,
    chars: Sequence[CharPrediction],
    classify: Classify,
    dark_on_light: bool,
    params: GapParams = DEFAULT_GAPS,
) -> list[CharPrediction]:
    """Return the line's characters plus any missed ones the classifier confirms, left to right.

    Only single-row lines are extended: the slots of a two-row plate are not on one baseline.
    """
    out = sorted(chars, key=lambda c: c.box.x)
    if len(out) < params.min_chars or any(c.row != out[0].row for c in out):
        return out
    line = line_of(out, dark_on_light)
    found: list[Box] = []
    at: list[float] = []  # the slot of each found component
    empty: list[float] = []
    for cx, _ in slots(out, line, params.max_end_steps):
        box = _component_at(gray, cx, line, params)
        if box is not None and not overlaps(box, [c.box for c in out] + found):
            found.append(box)
            at.append(cx)
        elif box is None:
            empty.append(cx)
    row = out[0].row
    preds = classify([CharBox(b, row, dark_on_light) for b in found]) if found else []
    good = [c.confidence >= params.min_confidence and not_frame(c, out, line, params) for c in preds]
    empty += [cx for cx, ok in zip(at, good, strict=True) if not ok]  # a component read unsurely: probe
    preds = [c for c, ok in zip(preds, good, strict=True) if ok]
    found = [b for b, ok in zip(found, good, strict=True) if ok]
    if params.probe and empty:
        preds += _probe(gray, empty, line, [c.box for c in out] + found, classify, row, params)
    for pred in sorted(preds, key=lambda c: -c.confidence):
        if (
            pred.confidence >= params.min_confidence
            and len(out) < params.max_chars
            and not overlaps(pred.box, [c.box for c in out])
        ):
            out.append(pred)
    return _contiguous(sorted(out, key=lambda c: c.box.x), line, chars)


def _inked(
    gray: np.ndarray, boxes: list[Box], owner: list[int], line: LineGrid, p: GapParams
) -> tuple[list[Box], list[int]]:
    """Probe boxes whose largest ink component is a character's height and not a bare stroke.

    A separator bar, a bolt or an edge of the state picture is narrow; a dash or a slogan is short.
    Neither is a character the line lost, however the classifier reads it.
    """
    flag = cv2.THRESH_BINARY_INV if line.dark_on_light else cv2.THRESH_BINARY
    keep_b, keep_o = [], []
    for b, k in zip(boxes, owner, strict=True):
        win = gray[b.y : b.y2, b.x : b.x2]
        _, ink = cv2.threshold(win, 0, 255, flag + cv2.THRESH_OTSU)
        n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        if n <= 1:
            continue
        i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        if stats[i, cv2.CC_STAT_HEIGHT] >= (1 - p.height_tol) * line.height and (
            stats[i, cv2.CC_STAT_WIDTH] >= 0.35 * line.height
        ):
            keep_b.append(b)
            keep_o.append(k)
    return keep_b, keep_o


def _probe(
    gray: np.ndarray,
    slots: Sequence[float],
    line: LineGrid,
    taken: Sequence[Box],
    classify: Classify,
    row: int,
    p: GapParams,
) -> list[CharPrediction]:
    """Best-read character-sized box around each slot where thresholding found no clean component.

    A character glued to a state picture, a slogan or the frame is one blob with it, so no
    component has its size; a box of the line's character size placed at the slot (shifted a
    little either way, and wide enough for a W or M) lets the classifier judge the ink there.
    A bar (1, I) fills a third of such a box, the rest is its neighbour's: it is never taken. An
    L is, unless `p.probe_feet` is off: a photo's view of a plate is cut wider than the plate, and
    there a probe past the line's ends finds the frame's corner, which reads as L.
    """
    h_img, w_img = gray.shape[:2]
    boxes: list[Box] = []
    owner: list[int] = []
    for k, cx in enumerate(slots):
        for shift in np.linspace(-p.probe_shift, p.probe_shift, 5) * line.pitch:
            for wmul in (1.0, 1.4):
                w, h = wmul * line.width, line.height
                x, y = cx + shift - w / 2, line.centre_y(cx + shift) - h / 2
                if x < 0 or y < 0 or x + w > w_img or y + h > h_img:
                    continue
                box = Box(int(round(x)), int(round(y)), int(round(w)), int(round(h)))
                if not overlaps(box, taken):
                    boxes.append(box)
                    owner.append(k)
    boxes, owner = _inked(gray, boxes, owner, line, p)
    if not boxes:
        return []
    preds = classify([CharBox(b, row, line.dark_on_light) for b in boxes])
    best: dict[int, CharPrediction] = {}
    for k, pred in zip(owner, preds, strict=True):
        if pred.char in BARS or (pred.char in NARROW and not p.probe_feet):
            continue
        if k not in best or pred.confidence > best[k].confidence:
            best[k] = pred
    return list(best.values())


def _contiguous(
    out: list[CharPrediction], line: LineGrid, orig: Sequence[CharPrediction]
) -> list[CharPrediction]:
    """An end slot two steps out counts only if the slot between was filled too. A found box is
    inside or past the line by its centre (a probe box may overlap its neighbour a little)."""
    keep = set(map(id, orig))
    lo, hi = min(c.box.x for c in orig), max(c.box.x2 for c in orig)
    new = [c for c in out if id(c) not in keep]
    res = [c for c in out if id(c) in keep] + [c for c in new if lo <= c.box.center[0] < hi]
    left = sorted((c for c in new if c.box.center[0] < lo), key=lambda c: -c.box.x)
    right = sorted((c for c in new if c.box.center[0] >= hi), key=lambda c: c.box.x)
    edge = lo
    for c in left:
        if edge - c.box.x2 > 1.5 * line.pitch:
            break
        res.append(c)
        edge = c.box.x
    edge = hi
    for c in right:
        if c.box.x - edge > 1.5 * line.pitch:
            break
        res.append(c)
        edge = c.box.x2
    return sorted(res, key=lambda c: c.box.x)
