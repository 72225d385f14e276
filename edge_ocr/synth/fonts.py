"""Fonts for the synthetic renderer.

The committed fonts (edge_ocr/data/fonts, licences beside them) make rendering work on a fresh
machine and keep seeded renders identical everywhere; system fonts only add training variety and
are never required.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from edge_ocr.errors import EdgeOcrError

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# Upright sans/mono faces look like plate lettering; serif, script, symbol and italic ones do not.
_WANT = ("sans", "mono", "gothic", "narrow", "condensed")
_AVOID = ("italic", "oblique", "serif", "symbol", "math", "extralight", "light", "d050000l", "z003")

FontFace = ImageFont.FreeTypeFont


def committed_fonts() -> tuple[Path, ...]:
    """The fonts shipped in the package, sorted so that seeded choices are reproducible."""
    fonts = tuple(sorted(p for p in FONT_DIR.glob("*") if p.suffix.lower() in (".ttf", ".otf")))
    if not fonts:
        raise EdgeOcrError(f"no fonts found in {FONT_DIR} (the package data is incomplete)")
    return fonts


def system_fonts(dirs: Sequence[Path] = SYSTEM_FONT_DIRS) -> tuple[Path, ...]:
    """Extra plate-like fonts installed on this machine (may be empty)."""
    found: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            continue
        for p in d.rglob("*"):
            name = p.name.lower()
            if p.suffix.lower() not in (".ttf", ".otf"):
                continue
            if any(w in name for w in _WANT) and not any(a in name for a in _AVOID):
                found.append(p)
    return tuple(sorted(found))


def training_fonts() -> tuple[Path, ...]:
    """Committed fonts plus whatever plate-like system fonts exist, without duplicates by name."""
    seen = {p.name for p in committed_fonts()}
    extra = tuple(p for p in system_fonts() if p.name not in seen)
    return committed_fonts() + extra


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> FontFace:
    try:
        return ImageFont.truetype(path, max(4, int(size)))
    except OSError as exc:
        raise EdgeOcrError(f"cannot load font {path}: {exc}") from exc


@lru_cache(maxsize=64)
def cap_height_ratio(path: str) -> float:
    """Height of a capital 'H' per point of font size, to size glyphs by their visible height."""
    font = load_font(path, 200)
    _, top, _, bottom = font.getbbox("H")
    return max(1.0, float(bottom - top)) / 200.0


def font_for_cap_height(path: str, cap_px: float) -> FontFace:
    return load_font(path, round(cap_px / cap_height_ratio(path)))
