"""Render single plate characters as segmented tiles, to supplement real character data."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.synth import augment
from edge_ocr.synth.fonts import committed_fonts
from edge_ocr.synth.glyphs import render_line

SUPERSAMPLE = 3


@lru_cache(maxsize=4096)
def _glyph_mask(ch: str, font: str, cap: float, stroke: int) -> np.ndarray:
    """Cached: rasterizing dominates the cost and the same glyphs recur thousands of times."""
    mask = render_line(ch, font, cap, stroke).chars[0]
    mask.setflags(write=False)
    return mask


def _glyph(ch: str, rng: np.random.Generator, fonts: Sequence[Path], cap: float) -> np.ndarray:
    font = str(fonts[int(rng.integers(len(fonts)))])
    stroke = int(rng.integers(0, 2 + int(cap // 25)))
    mask = _glyph_mask(ch, font, cap, stroke)
    sx = float(rng.uniform(0.7, 1.2))  # condensed to wide plate fonts
    return cv2.resize(mask, (max(1, round(mask.shape[1] * sx)), mask.shape[0]), interpolation=cv2.INTER_AREA)


def _place(glyph: np.ndarray, rng: np.random.Generator, out_hw: tuple[int, int]) -> np.ndarray:
    """Warp the glyph into the tile: random fill, shift, rotation and perspective (like a loose box)."""
    th, tw = out_hw
    gh, gw = glyph.shape
    fill = float(rng.uniform(0.7, 0.98))
    scale = min(fill * th / gh, 0.98 * tw / gw)
    w, h = gw * scale, gh * scale
    cx = tw / 2 + rng.normal(0, 0.04 * tw)
    cy = th / 2 + rng.normal(0, 0.04 * th)
    quad = augment.jitter_quad(w, h, rng, rot_deg=6.0, persp=0.04) + np.array([cx - w / 2, cy - h / 2])
    src = np.array([[0, 0], [gw, 0], [gw, gh], [0, gh]], np.float64)
    m = augment.homography(src, quad)
    return cv2.warpPerspective(glyph, m, (tw, th), flags=cv2.INTER_AREA)


def _fragments(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sometimes add what a segmenter leaves in a box: a neighbour's edge or the plate border."""
    h, w = ink.shape
    out = ink.copy()
    if rng.random() < 0.15:
        x = int(rng.integers(0, max(1, w // 10)))
        out[int(h * 0.15) : int(h * 0.85), x : x + max(1, w // 10)] = 1.0
    if rng.random() < 0.15:
        y = 0 if rng.random() < 0.5 else h - max(1, h // 16)
        out[y : y + max(1, h // 16), :] = 1.0
    return out


def render_char(
    ch: str,
    rng: np.random.Generator,
    size_hw: tuple[int, int] = (48, 32),
    fonts: Sequence[Path] | None = None,
) -> np.ndarray:
    """A grey uint8 tile, dark character on a light background, with the usual camera damage."""
    fonts = tuple(fonts) if fonts else committed_fonts()
    th, tw = size_hw
    big = (th * SUPERSAMPLE, tw * SUPERSAMPLE)
    ink = _place(_glyph(ch, rng, fonts, cap=float(big[0])), rng, big)
    ink = cv2.resize(ink, (tw, th), interpolation=cv2.INTER_AREA)
    ink = _fragments(ink, rng)
    bg = float(rng.uniform(140, 255))
    fg = float(rng.uniform(0, min(110, bg - 60)))
    tile = bg * (1 - ink) + fg * ink
    tile = np.clip(tile, 0, 255).astype(np.uint8)
    return augment.photometric(tile, rng, float(rng.uniform(0.2, 1.0)))
