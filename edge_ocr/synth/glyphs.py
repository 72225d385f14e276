"""Rasterize a line of glyphs as one coverage mask per character.

Keeping a separate mask per character (rather than one picture of the line) is what makes the
ground-truth character boxes exact after scaling, warping and blurring.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from edge_ocr.synth.fonts import font_for_cap_height


@dataclass(frozen=True)
class LineMasks:
    """Coverage in [0, 1]: `chars[i]` for the i-th letter/digit, `extra` for separators."""

    chars: tuple[np.ndarray, ...]
    extra: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.extra.shape[0]), int(self.extra.shape[1]))


def _draw(size: tuple[int, int], xy: tuple[float, float], text: str, font_path: str, cap: float, stroke: int):
    img = Image.new("L", size, 0)
    font = font_for_cap_height(font_path, cap)
    ImageDraw.Draw(img).text(xy, text, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    return np.asarray(img, np.float32) / 255.0


def render_line(text: str, font_path: str, cap: float, stroke: int = 0, tracking: float = 0.12) -> LineMasks:
    """Masks of `text` with capitals `cap` pixels high, cropped to the union of the ink."""
    font = font_for_cap_height(font_path, cap)
    top = font.getbbox("H")[1]
    pad = int(cap * 0.4) + stroke + 2
    advances = [font.getlength(c) + 2 * stroke for c in text]
    width = int(sum(advances) + tracking * cap * len(text) + 2 * pad)
    height = int(cap * 1.6) + 2 * pad
    chars: list[np.ndarray] = []
    extra = np.zeros((height, width), np.float32)
    x = float(pad)
    for c, adv in zip(text, advances, strict=True):
        if c == " ":
            x += 0.45 * cap
            continue
        if not c.isalnum():  # separators are drawn but are not characters of the plate
            extra = np.maximum(extra, _draw((width, height), (x, pad - top), c, font_path, cap, stroke))
            x += adv + tracking * cap
            continue
        chars.append(_draw((width, height), (x + stroke, pad - top), c, font_path, cap, stroke))
        x += adv + tracking * cap
    union = np.maximum.reduce([extra, *chars]) if chars else extra
    ys, xs = np.nonzero(union > 0.02)
    if len(xs) == 0:
        return LineMasks(tuple(chars), extra)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return LineMasks(tuple(m[y0:y1, x0:x1] for m in chars), extra[y0:y1, x0:x1])


def resize_masks(masks: LineMasks, w: int, h: int) -> LineMasks:
    w, h = max(1, w), max(1, h)
    sh, sw = masks.shape
    interp = cv2.INTER_AREA if (w < sw or h < sh) else cv2.INTER_LINEAR

    def rs(m: np.ndarray) -> np.ndarray:
        return cv2.resize(m, (w, h), interpolation=interp)

    return LineMasks(tuple(rs(m) for m in masks.chars), rs(masks.extra))


def mask_box(mask: np.ndarray, level: float = 0.5) -> tuple[int, int, int, int] | None:
    """Tight (x, y, w, h) of the pixels at least half covered; falls back to any coverage."""
    ys, xs = np.nonzero(mask >= level)
    if len(xs) == 0:
        ys, xs = np.nonzero(mask > 0.05)
    if len(xs) == 0:
        return None
    x0, y0 = int(xs.min()), int(ys.min())
    return x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1


def draw_text(
    canvas: np.ndarray, text: str, font_path: str, cap: float, x: float, y: float, colour: tuple[int, ...]
) -> None:
    """Draw small distractor text (state names, slogans) with its top-left ink at (x, y), in place."""
    line = render_line(text, font_path, cap * 2, 0, 0.05)
    h, w = line.shape
    line = resize_masks(line, round(w / 2), round(h / 2))
    alpha = np.maximum.reduce([line.extra, *line.chars]) if line.chars else line.extra
    paste(canvas, alpha, colour, int(x), int(y))


def paste(canvas: np.ndarray, alpha: np.ndarray, colour: tuple[int, ...], x: int, y: int) -> None:
    """Alpha-blend a solid colour through `alpha` at (x, y), clipped to the canvas, in place."""
    h, w = alpha.shape
    ch, cw = canvas.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(cw, x + w), min(ch, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x][..., None]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    blended = region * (1 - a) + np.array(colour, np.float32) * a
    canvas[y0:y1, x0:x1] = np.clip(blended, 0, 255).astype(np.uint8)
