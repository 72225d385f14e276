"""Render licence plates with exact per-character boxes."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_ocr.synth import augment
from edge_ocr.synth.fonts import committed_fonts
from edge_ocr.synth.glyphs import LineMasks, draw_text, mask_box, paste, render_line, resize_masks
from edge_ocr.synth.styles import (
    BAND_BLUE,
    COUNTRIES,
    SLOGANS,
    STATES,
    PlateStyle,
    colours,
    get_style,
    jitter,
    plate_chars,
)
from edge_ocr.types import Box


@dataclass(frozen=True)
class RenderedPlate:
    """A plate image (BGR uint8) and, per character of `text` in reading order, its ink box and row."""

    image: np.ndarray
    text: str
    char_boxes: tuple[Box, ...]
    rows: tuple[int, ...]
    style: str
    dark_on_light: bool
    # Where the plate itself is in `image` (tl, tr, br, bl): the whole image unless `margin` was asked for.
    corners: tuple[tuple[float, float], ...] = ()

    @property
    def row_texts(self) -> tuple[str, ...]:
        n = max(self.rows, default=-1) + 1
        return tuple(
            "".join(c for c, r in zip(self.text, self.rows, strict=True) if r == i) for i in range(n)
        )


def split_rows(text: str, style: PlateStyle) -> list[str]:
    """Rows of the display text: explicit newlines, else two-row styles split the characters near half."""
    if "\n" in text:
        return [r for r in text.split("\n") if r.strip()]
    if len(style.rows) < 2:
        return [text]
    alnum_idx = [i for i, c in enumerate(text) if c.isalnum()]
    if len(alnum_idx) < 2:
        return [text]
    cut = alnum_idx[len(alnum_idx) // 2 - 1] + 1 if len(alnum_idx) > 3 else alnum_idx[0] + 1
    return [text[:cut].strip(" -."), text[cut:].strip(" -.")]


def _place_row(
    line: LineMasks, rect: tuple[float, float, float, float], size: tuple[int, int], squeeze: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """Scale a line so its height fills `rect` (narrowing it if too wide) and centre it on the plate."""
    w, h = size
    x0, y0, x1, y1 = rect[0] * w, rect[1] * h, rect[2] * w, rect[3] * h
    lh, lw = line.shape
    th = y1 - y0
    sx = min(th / lh * squeeze, (x1 - x0) / lw)
    nw, nh = max(1, round(lw * sx)), max(1, round(th))
    small = resize_masks(line, nw, nh)
    px, py = round((x0 + x1 - nw) / 2), round(y0)
    out = []
    for m in (*small.chars, small.extra):
        full = np.zeros((h, w), np.float32)
        full[py : py + nh, px : px + nw] = m[: h - py, : w - px]
        out.append(full)
    return out[:-1], out[-1]


def _decorate(
    img: np.ndarray, style: PlateStyle, ink: tuple[int, int, int], rng: np.random.Generator
) -> None:
    """Border, colour band, bolts and small text: the distractors real plates carry."""
    h, w = img.shape[:2]
    font = str(committed_fonts()[int(rng.integers(len(committed_fonts())))])
    t = max(1, round(h * 0.025))
    cv2.rectangle(img, (t, t), (w - 1 - t, h - 1 - t), ink, t, cv2.LINE_AA)
    if style.band == "left":
        bw = round(0.09 * w)
        cv2.rectangle(img, (2 * t, 2 * t), (bw, h - 1 - 2 * t), BAND_BLUE, -1)
        code = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        draw_text(img, code, font, 0.22 * h, 2 * t + bw * 0.18, h * 0.62, (240, 240, 240))
        cv2.circle(
            img, (bw // 2 + t, round(h * 0.3)), round(h * 0.14), (0, 200, 240), max(1, t // 2), cv2.LINE_AA
        )
    elif style.band == "top":
        bh = round(0.24 * h)
        cv2.rectangle(img, (2 * t, 2 * t), (w - 1 - 2 * t, bh), BAND_BLUE, -1)
        draw_text(img, "BRASIL", font, 0.12 * h, w * 0.4, bh * 0.35, (240, 240, 240))
    if style.header:
        name = STATES[int(rng.integers(len(STATES)))]
        draw_text(
            img, name, font, 0.12 * h, w * (0.5 - 0.035 * len(name)), h * 0.08, jitter((40, 40, 160), rng, 40)
        )
    if style.footer:
        slogan = SLOGANS[int(rng.integers(len(SLOGANS)))]
        if slogan:
            draw_text(img, slogan, font, 0.07 * h, w * (0.5 - 0.018 * len(slogan)), h * 0.83, ink)
    if style.bolts:
        r = max(2, round(0.035 * h))
        for bx in (0.2, 0.8):
            centre = (round(bx * w), round(0.13 * h))
            cv2.circle(img, centre, r, (150, 150, 150), -1, cv2.LINE_AA)
            cv2.circle(img, centre, r, (70, 70, 70), max(1, r // 3), cv2.LINE_AA)


def _compose(
    style: PlateStyle, rows: list[str], height: int, dark: bool, rng: np.random.Generator, augmented: bool
):
    w, h = round(style.aspect * height), height
    bg, ink = colours(style, dark, rng)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = bg
    _decorate(img, style, ink, rng)
    fonts = committed_fonts()
    font = str(fonts[int(rng.integers(len(fonts)))])
    cap = max(40.0, 2.0 * height * (style.rows[0][3] - style.rows[0][1]))
    stroke = int(rng.integers(0, 2 + int(cap // 30))) if augmented else int(rng.integers(0, 2))
    squeeze = float(rng.uniform(0.8, 1.1)) if augmented else 1.0
    tracking = float(rng.uniform(0.06, 0.25))
    masks: list[np.ndarray] = []
    row_ids: list[int] = []
    for r, (text, rect) in enumerate(zip(rows, style.rows, strict=False)):
        chars, extra = _place_row(render_line(text, font, cap, stroke, tracking), rect, (w, h), squeeze)
        paste(img, extra, ink, 0, 0)
        masks.extend(chars)
        row_ids.extend([r] * len(chars))
    for m in masks:
        paste(img, m, ink, 0, 0)
    return img, masks, row_ids


def render_plate(
    text: str,
    rng: np.random.Generator,
    style: str = "us",
    height: int = 120,
    augmented: bool = False,
    dark_on_light: bool | None = None,
    margin: float = 0.0,
) -> RenderedPlate:
    """Render `text` (may hold '-', ' ', '.' and '\\n'; only letters/digits become characters).

    `augmented` adds stroke/width variety, a slight perspective warp and photometric damage;
    `margin` (fraction of the height) surrounds the plate with a car-coloured frame, like a loose crop.
    """
    st = get_style(style)
    rows = split_rows(text.upper(), st)[: len(st.rows)]
    dark = bool(rng.random() < st.p_dark_on_light) if dark_on_light is None else dark_on_light
    img, masks, row_ids = _compose(st, rows, height, dark, rng, augmented)
    img, masks, corners = _frame(img, masks, margin, rng, augmented)
    if augmented:
        img = augment.photometric(img, rng, float(rng.uniform(0.3, 1.0)))
    boxes = []
    for m in masks:
        b = mask_box(m)
        boxes.append(Box(*b) if b else Box(0, 0, 0, 0))
    label = plate_chars("".join(rows))
    return RenderedPlate(img, label, tuple(boxes), tuple(row_ids), st.name, dark, corners)


def _frame(
    img: np.ndarray, masks: list[np.ndarray], margin: float, rng: np.random.Generator, augmented: bool
):
    """Optional surround and, when augmented, a mild perspective warp applied to image and masks alike."""
    h, w = img.shape[:2]
    pad = round(margin * h)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    dst = src + pad
    if augmented:
        dst = augment.jitter_quad(w, h, rng, rot_deg=3.0, persp=0.03) + pad
    ow, oh = w + 2 * pad, h + 2 * pad
    if pad == 0 and not augmented:
        return img, masks, tuple((float(x), float(y)) for x, y in dst)
    m = augment.homography(src, dst)
    surround = jitter((60, 60, 60), rng, 50)
    out = cv2.warpPerspective(
        img, m, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=surround
    )
    warped = [cv2.warpPerspective(k, m, (ow, oh), flags=cv2.INTER_LINEAR) for k in masks]
    return out, warped, tuple((float(x), float(y)) for x, y in dst)
