"""Synthetic plate lines rendered by edge_ocr.synth with the plate fonts of ../shared/fonts.

edge_ocr.synth.plate picks its font from `committed_fonts()` (the package's generic fonts); the
plate typefaces (Highway Gothic, FE-Schrift, DIN) live outside the package, so for each render the
module-level lookup is pointed at one chosen font. Nothing in edge_ocr is edited.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from convert.sequence.data import LineSample
from edge_ocr.synth import plate as plate_mod
from edge_ocr.synth.styles import random_plate_text

# Fonts per style, relative to the fonts folder; O/0 look the same in RG2014C, OSP-DIN and Barlow,
# so texts rendered with those write every O as 0 (the label must follow what is visible).
FONTS = {
    "us": (
        "roadgeek-2014/RG2014C.ttf",
        "oswald/Oswald-Medium.ttf",
        "oswald/Oswald-Bold.ttf",
        "barlow-condensed/BarlowCondensed-SemiBold.ttf",
        "barlow-condensed/BarlowCondensed-Bold.ttf",
    ),
    "eu": (
        "gl-nummernschild/GL-Nummernschild-Mtl.ttf",
        "gl-nummernschild/GL-Nummernschild-Eng.ttf",
        "alte-din-1451-mittelschrift/din1451alt.ttf",
        "alte-din-1451-mittelschrift/din1451alt_g.ttf",
        "dinish/DINish-Bold.ttf",
        "dinish/DINishCondensed-Bold.ttf",
        "osp-din/OSP-DIN.ttf",
    ),
    "br": ("gl-nummernschild/GL-Nummernschild-Mtl.ttf",),
    "two-row": (
        "alte-din-1451-mittelschrift/din1451alt.ttf",
        "dinish/DINish-Bold.ttf",
        "gl-nummernschild/GL-Nummernschild-Mtl.ttf",
        "osp-din/OSP-DIN.ttf",
    ),
}
O_IS_ZERO = ("RG2014C", "OSP-DIN", "BarlowCondensed-SemiBold")
STYLE_MIX = (("us", 0.55), ("eu", 0.15), ("br", 0.12), ("two-row", 0.18))
US_EXTRA = ("LLDDDD", "DDDDDD", "LLLLDDD", "DLLLLDD", "LDDDDDDL", "DDDDLL", "LLDLDDD")


def _text(style: str, font: str, rng: np.random.Generator) -> str:
    if style == "us" and rng.random() < 0.3:
        pat = US_EXTRA[int(rng.integers(len(US_EXTRA)))]
        text = "".join(
            "0123456789"[int(rng.integers(10))]
            if p == "D"
            else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[int(rng.integers(26))]
            for p in pat
        )
    else:
        text = random_plate_text(style, rng)
    if any(k in font for k in O_IS_ZERO):
        text = text.replace("O", "0")
    return text


def _render(style: str, font: Path, rng: np.random.Generator) -> LineSample:
    text = _text(style, font.name, rng)
    plate_mod.committed_fonts = lambda: (font,)
    margin = float(rng.uniform(0.0, 0.12))
    r = plate_mod.render_plate(
        text, rng, style, height=int(rng.integers(56, 96)), augmented=True, margin=margin
    )
    grey = cv2.cvtColor(r.image, cv2.COLOR_BGR2GRAY)
    rows, split = 1, 0.5
    if style == "two-row" and len(set(r.rows)) == 2:
        rows = 2
        top = max(b.y + b.h for b, k in zip(r.char_boxes, r.rows, strict=True) if k == 0)
        bottom = min(b.y for b, k in zip(r.char_boxes, r.rows, strict=True) if k == 1)
        split = (top + bottom) / 2 / grey.shape[0]
    return LineSample(grey, r.text, "synth", rows, split)


def render_many(n: int, fonts_dir: Path, seed: int) -> list[LineSample]:
    """`n` synthetic plates, styles mixed per STYLE_MIX, fonts drawn evenly within a style."""
    rng = np.random.default_rng(seed)
    names = [name for name, _ in STYLE_MIX]
    probs = np.array([p for _, p in STYLE_MIX])
    original = plate_mod.committed_fonts
    out = []
    try:
        for _ in range(n):
            style = names[int(rng.choice(len(names), p=probs))]
            fonts = FONTS[style]
            font = fonts_dir / fonts[int(rng.integers(len(fonts)))]
            sample = _render(style, font, rng)
            if 3 <= len(sample.text) <= 10:
                out.append(sample)
    finally:
        plate_mod.committed_fonts = original
    return out
