"""Plate styles (geometry, colours, distractor text) and random plate texts per style.

Geometry follows real plates: US 12x6 in with ~45 % high glyphs under a state name, EU 520x110 mm
with a blue country band, Brazilian Mercosul 400x130 mm under a blue BRASIL band, and two-row
square-ish plates (VN, CZ, UK motorcycle style).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_ocr.errors import EdgeOcrError

Colour = tuple[int, int, int]  # BGR
RowRect = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the plate


@dataclass(frozen=True)
class PlateStyle:
    name: str
    aspect: float  # width / height
    rows: tuple[RowRect, ...]  # where the glyphs go; cap height fills y0..y1
    band: str = ""  # "", "left" (EU) or "top" (BR)
    bolts: bool = False
    header: bool = False  # small state name above the glyphs
    footer: bool = False  # small slogan below the glyphs
    p_dark_on_light: float = 0.9


STYLES: dict[str, PlateStyle] = {
    "us": PlateStyle(
        "us", 2.0, ((0.07, 0.27, 0.93, 0.76),), bolts=True, header=True, footer=True, p_dark_on_light=0.8
    ),
    "eu": PlateStyle("eu", 4.7, ((0.125, 0.16, 0.95, 0.84),), band="left"),
    "br": PlateStyle("br", 3.08, ((0.06, 0.37, 0.94, 0.88),), band="top"),
    "two-row": PlateStyle(
        "two-row", 1.5, ((0.14, 0.1, 0.86, 0.44), (0.07, 0.55, 0.93, 0.9)), bolts=True, p_dark_on_light=0.8
    ),
}

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
# L = letter, D = digit, anything else is copied (separators, row break "\n").
PATTERNS: dict[str, tuple[str, ...]] = {
    "us": ("LLLDDDD", "DLLLDDD", "LLL-DDDD", "DDDLLL", "LLLDDD", "DLLDDD", "LLDDDDD", "DDD-LLL"),
    "eu": ("LLDD LLL", "LL-DDD-LL", "L-LL DDDD", "LL-LL-DD", "DD-LLL-D", "LLL-DDD", "LL DDDDD"),
    "br": ("LLLDLDD", "LLL-DDDD", "LLLDLDD"),
    "two-row": ("DDL\nDDDDD", "LLL\nDDDD", "DDL\nDDD.DD", "LL\nDDDD", "DLD\nDDDD"),
}

STATES = ("CALIFORNIA", "TEXAS", "NEW YORK", "FLORIDA", "OHIO", "ILLINOIS", "ARIZONA", "NEVADA", "OREGON")
SLOGANS = ("SUNSHINE STATE", "LAND OF LINCOLN", "EMPIRE STATE", "dmv.gov", "GRAND CANYON STATE", "")
COUNTRIES = ("D", "F", "NL", "B", "I", "E", "CZ", "PL", "GB")

LIGHT_BG: tuple[Colour, ...] = ((245, 245, 245), (225, 238, 245), (215, 232, 236), (232, 226, 216))
YELLOW_BG: Colour = (20, 200, 250)
DARK_INK: tuple[Colour, ...] = ((25, 25, 25), (95, 35, 15), (25, 25, 125), (30, 85, 25))
DARK_BG: tuple[Colour, ...] = ((95, 45, 15), (30, 30, 30), (35, 80, 25), (35, 35, 120))
LIGHT_INK: tuple[Colour, ...] = ((240, 240, 240), (40, 210, 240), (225, 235, 235))
BAND_BLUE: Colour = (150, 60, 10)


def get_style(name: str) -> PlateStyle:
    try:
        return STYLES[name]
    except KeyError:
        raise EdgeOcrError(f"unknown plate style {name!r}; expected one of {sorted(STYLES)}") from None


def random_plate_text(style: str, rng: np.random.Generator) -> str:
    """A random text for `style` in the display form (may hold '-', ' ', '.', and '\\n' between rows)."""
    patterns = PATTERNS[get_style(style).name]
    pattern = patterns[int(rng.integers(len(patterns)))]
    out = []
    for p in pattern:
        if p == "L":
            out.append(LETTERS[int(rng.integers(len(LETTERS)))])
        elif p == "D":
            out.append(DIGITS[int(rng.integers(len(DIGITS)))])
        else:
            out.append(p)
    return "".join(out)


def plate_chars(text: str) -> str:
    """The label of a plate: its letters and digits only, upper case."""
    return "".join(c for c in text.upper() if c.isalnum())


def jitter(colour: Colour, rng: np.random.Generator, amount: int = 12) -> Colour:
    c = np.clip(np.array(colour) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


def pick(options: tuple[Colour, ...], rng: np.random.Generator) -> Colour:
    return jitter(options[int(rng.integers(len(options)))], rng)


def colours(style: PlateStyle, dark_on_light: bool, rng: np.random.Generator) -> tuple[Colour, Colour]:
    """(background, ink) for a plate."""
    if not dark_on_light:
        return pick(DARK_BG, rng), pick(LIGHT_INK, rng)
    if style.name in ("eu", "two-row") and rng.random() < 0.3:
        return jitter(YELLOW_BG, rng), jitter((20, 20, 20), rng, 8)
    if style.name in ("eu", "br"):
        return pick(LIGHT_BG[:2], rng), jitter((20, 20, 20), rng, 8)
    return pick(LIGHT_BG, rng), pick(DARK_INK, rng)
