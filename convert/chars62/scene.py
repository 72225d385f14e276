"""Synthetic natural-scene characters for the 62-class reader (training only).

Chars74K GoodImg is the hardest set: characters cut from photos of signs and shop fronts, often
light on dark, on textured or gradient backgrounds, with parts of the neighbouring letters inside
the box, and every crop stretched to a square. The clean font renders teach shapes but none of that,
so this module renders glyphs from the installed fonts onto real textures (random patches of the
plate-free frames in ../shared/data/negatives), with either polarity, optional outline or shadow,
neighbour fragments at the sides, a loose box, and the stretch to 64 x 64 GoodImg has.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.bench.datasets import CharSample, read_gray
from edge_ocr.paths import data_root
from edge_ocr.synth import augment
from edge_ocr.synth.char import _glyph
from edge_ocr.types import CHARS62

OUT = 64  # GoodImg tiles are 64 x 64, whatever the shape of the character was
CAP = 72.0  # glyph raster height before composition


def load_textures(root: Path | None, max_side: int = 480) -> list[np.ndarray]:
    """Grey frames from negatives/, downscaled: the texture pool for backgrounds."""
    folder = data_root(root) / "negatives"
    out = []
    for f in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        g = read_gray(f)
        s = max_side / max(g.shape)
        if s < 1:
            g = cv2.resize(g, (round(g.shape[1] * s), round(g.shape[0] * s)), interpolation=cv2.INTER_AREA)
        out.append(g)
    if not out:
        raise FileNotFoundError(f"no texture images in {folder}")
    return out


def _patch(textures: Sequence[np.ndarray], rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A random window of a random frame, scaled to h x w (float 0-255)."""
    t = textures[int(rng.integers(len(textures)))]
    th, tw = t.shape
    ph = int(rng.integers(min(16, th), th + 1))
    pw = min(tw, max(4, round(ph * w / h * rng.uniform(0.7, 1.4))))
    y, x = int(rng.integers(0, th - ph + 1)), int(rng.integers(0, tw - pw + 1))
    return cv2.resize(t[y : y + ph, x : x + pw], (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)


def _background(textures: Sequence[np.ndarray], rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Flat paint, a gradient, or a real texture, usually a mix (signs are painted, walls are not)."""
    tex = _patch(textures, rng, h, w)
    flat = np.full((h, w), rng.uniform(0, 255), np.float32)
    if rng.random() < 0.3:
        ramp = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
        ramp = ramp[None, :] if ramp.size == w else ramp[:, None]
        flat = flat + rng.uniform(-80, 80) * (ramp - 0.5)
    mix = float(rng.choice([0.0, rng.uniform(0.1, 0.5), 1.0], p=[0.35, 0.35, 0.3]))
    return np.clip(mix * tex + (1 - mix) * flat, 0, 255)


def _ink_level(bg: np.ndarray, rng: np.random.Generator) -> float:
    """A grey level that stands out from the background, darker or lighter (both occur in scenes)."""
    m = float(np.median(bg))
    gap = rng.uniform(45, 160)
    dark = m - gap >= 0 and (m + gap > 255 or rng.random() < 0.55)
    return float(np.clip(m - gap if dark else m + gap, 0, 255))


def scene_char(
    ch: str, rng: np.random.Generator, fonts: Sequence[Path], textures: Sequence[np.ndarray]
) -> np.ndarray:
    """One 64 x 64 uint8 tile in the manner of a GoodImg crop."""
    glyph = _glyph(ch, rng, fonts, CAP)
    gh, gw = glyph.shape
    pad_t, pad_b = rng.uniform(0.0, 0.15, 2) * gh
    pad_l, pad_r = rng.uniform(0.0, 0.25, 2) * gh
    h, w = round(gh + pad_t + pad_b), round(gw + pad_l + pad_r)
    ink = np.zeros((h, w), np.float32)
    ink[round(pad_t) : round(pad_t) + gh, round(pad_l) : round(pad_l) + gw] = glyph[
        : h - round(pad_t), : w - round(pad_l)
    ]
    for side in (0, 1):  # a neighbouring letter cut by the box
        if rng.random() < 0.3:
            other = _glyph(CHARS62[int(rng.integers(len(CHARS62)))], rng, fonts, CAP)
            keep = max(1, round(other.shape[1] * rng.uniform(0.05, 0.3)))
            part = other[:, -keep:] if side == 0 else other[:, :keep]
            part = part[: h - round(pad_t)]
            y0, x0 = round(pad_t), 0 if side == 0 else w - part.shape[1]
            if part.shape[1] <= w:
                region = ink[y0 : y0 + part.shape[0], x0 : x0 + part.shape[1]]
                np.maximum(region, part[: region.shape[0], : region.shape[1]], out=region)
    bg = _background(textures, rng, h, w)
    fg = _ink_level(bg, rng)
    tile = bg
    if rng.random() < 0.2:  # outline or drop shadow in a third tone
        k = max(1, round(gh * rng.uniform(0.03, 0.08)))
        halo = cv2.dilate(ink, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
        if rng.random() < 0.5:
            halo = np.roll(halo, (k, k), axis=(0, 1))
        tone = float(rng.uniform(0, 255))
        tile = tile * (1 - halo) + tone * halo
    texture_in_ink = rng.uniform(0, 0.3) * (_patch(textures, rng, h, w) - 128.0)
    tile = tile * (1 - ink) + np.clip(fg + texture_in_ink, 0, 255) * ink
    quad = augment.jitter_quad(w, h, rng, rot_deg=5.0, persp=0.05)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    quad = quad - quad.min(0)
    m = augment.homography(
        src, quad * np.array([OUT / max(1.0, quad[:, 0].max()), OUT / max(1.0, quad[:, 1].max())])
    )
    tile = cv2.warpPerspective(
        np.clip(tile, 0, 255).astype(np.uint8), m, (OUT, OUT), borderMode=cv2.BORDER_REPLICATE
    )
    return augment.photometric(tile, rng, float(rng.uniform(0.2, 1.0)))


def scene_samples(
    n_per_class: int, seed: int, fonts: Sequence[Path], root: Path | None = None
) -> list[CharSample]:
    """n_per_class scene tiles of each of the 62 classes, dark-on-light like the GoodImg loader."""
    from edge_ocr.bench.datasets import dark_on_light

    textures = load_textures(root)
    rng = np.random.default_rng(seed + 7919)
    return [
        CharSample(dark_on_light(scene_char(ch, rng, fonts, textures)), ch, "scene", f"scene/{ch}{i}")
        for ch in CHARS62
        for i in range(n_per_class)
    ]
