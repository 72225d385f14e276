"""Font sets for the synthetic characters of plate-chars (`python -m convert --synth-fonts NAME`).

- committed: the 4 fonts shipped in edge_ocr/data/fonts;
- system: those plus the plate-like system fonts (Debian packages; the set v2 was trained with);
- plate: `system` plus the plate typefaces of --fonts (default ../shared/fonts: FE-Schrift, DIN 1451,
  Highway Gothic, ...; licences in that folder's README). They are read from there, never copied.

In RG2014C (FHWA Series C), OSP-DIN and Barlow Condensed SemiBold O and 0 are the same shape
(shared fonts README), so an O is never rendered in them: a label must follow what is visible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from edge_ocr.errors import EdgeOcrError

FONT_SETS = ("committed", "system", "plate")
DEFAULT_FONTS_DIR = Path("../shared/fonts")
O_IS_ZERO = ("RG2014C", "OSP-DIN", "BarlowCondensed-SemiBold")
SYNTH_LICENCE = {
    "committed": "rendered by edge_ocr.synth from Debian-packaged fonts",
    "system": "rendered by edge_ocr.synth from Debian-packaged fonts",
    "plate": "rendered by edge_ocr.synth from Debian-packaged fonts and the plate fonts of ../shared/fonts "
    "(OFL-1.1 / MIT / GL-Nummernschild free licence; see that folder's README)",
}


def plate_fonts(fonts_dir: Path = DEFAULT_FONTS_DIR) -> tuple[Path, ...]:
    """Every .ttf/.otf under fonts_dir, sorted by path so that seeded choices are reproducible."""
    if not fonts_dir.is_dir():
        raise EdgeOcrError(f"no fonts folder {fonts_dir} (pass --fonts DIR)")
    fonts = tuple(sorted(p for p in fonts_dir.rglob("*") if p.suffix.lower() in (".ttf", ".otf")))
    if not fonts:
        raise EdgeOcrError(f"no .ttf/.otf fonts under {fonts_dir}")
    return fonts


def font_set(name: str, fonts_dir: Path = DEFAULT_FONTS_DIR) -> tuple[Path, ...]:
    from edge_ocr.synth.fonts import committed_fonts, training_fonts

    if name == "committed":
        return committed_fonts()
    if name == "system":
        return training_fonts()
    if name == "plate":
        return training_fonts() + plate_fonts(fonts_dir)
    raise EdgeOcrError(f"unknown font set {name!r} (one of {', '.join(FONT_SETS)})")


def without_o(fonts: Sequence[Path]) -> tuple[Path, ...]:
    """The fonts in which O can be told from 0."""
    return tuple(f for f in fonts if not any(k in f.name for k in O_IS_ZERO))


def cache_tag(name: str, fonts: Sequence[Path]) -> str:
    """Names the font set in the synth cache file: the set's name, its size and a hash of the font names
    (and of the O rule), so two sets of the same size, or a changed folder, never share a cache file."""
    if name == "committed":
        return ""  # the name the committed renders have always been cached under
    key = "\n".join(f.name for f in fonts) + "\nno-O:" + ",".join(O_IS_ZERO)
    return f"-{name}{len(fonts)}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def char_renderer(fonts: Sequence[Path]) -> Callable[[str, np.random.Generator], np.ndarray]:
    """render_char over `fonts`, leaving out of O the fonts that draw O as 0."""
    from edge_ocr.synth import render_char

    every, for_o = tuple(fonts), without_o(fonts)
    if not for_o:
        raise EdgeOcrError("no font in the set can draw an O unlike its 0")

    def render(ch: str, rng: np.random.Generator) -> np.ndarray:
        return render_char(ch, rng, fonts=for_o if ch == "O" else every)

    return render
