"""Varied US-style plates for the CTC reader: what the us-nyc crops do not show.

The only real US training plates (us-nyc-crops) are nearly all New York: one font, yellow or white
plates, "NEW YORK" above and "EMPIRE STATE" below. Other states differ in everything but the layout:
pictures and colour gradients behind the characters, state names in script or serif, slogans, stickers
with their own digits, a logo or space instead of a dash, inks of every colour, embossed glyphs, and
crops cut loose or tight by a detector. Each render draws all of these at random. Labels are the plate
characters only (stickers, headers and slogans are distractors).

`held_out=True` renders with fonts and a background kind training never sees: a check of
generalisation that is neither us-nyc nor bench/.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from convert.sequence.data import LineSample

BODY = (
    "roadgeek-2014/RG2014C.ttf", "oswald/Oswald-Medium.ttf", "oswald/Oswald-Bold.ttf",
    "barlow-condensed/BarlowCondensed-SemiBold.ttf", "alte-din-1451-mittelschrift/din1451alt.ttf",
    "alte-din-1451-mittelschrift/din1451alt_g.ttf", "osp-din/OSP-DIN.ttf", "dinish/DINish-Bold.ttf",
    "gl-nummernschild/GL-Nummernschild-Eng.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
)
BODY_HELD_OUT = ("barlow-condensed/BarlowCondensed-Bold.ttf", "dinish/DINishCondensed-Bold.ttf")
O_IS_ZERO = ("RG2014C", "OSP-DIN", "BarlowCondensed")
DEJAVU = "/usr/share/fonts/truetype/dejavu/"
HEADER = tuple(DEJAVU + f for f in (
    "DejaVuSerif-Bold.ttf", "DejaVuSerif-BoldItalic.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf",
    "DejaVuSansCondensed-Bold.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSerifCondensed-Italic.ttf",
)) + ("oswald/Oswald-Medium.ttf",)
STATES = (
    "ALABAMA", "ALASKA", "ARIZONA", "ARKANSAS", "CALIFORNIA", "COLORADO", "CONNECTICUT", "DELAWARE",
    "FLORIDA", "GEORGIA", "HAWAII", "IDAHO", "ILLINOIS", "INDIANA", "IOWA", "KANSAS", "KENTUCKY", "LOUISIANA",
    "MAINE", "MARYLAND", "MASSACHUSETTS", "MICHIGAN", "MINNESOTA", "MISSISSIPPI", "MISSOURI", "MONTANA",
    "NEBRASKA", "NEVADA", "OHIO", "OKLAHOMA", "OREGON", "PENNSYLVANIA", "TENNESSEE", "TEXAS", "UTAH",
    "VERMONT", "VIRGINIA", "WASHINGTON", "WISCONSIN", "WYOMING", "New Jersey", "New Mexico", "North Carolina",
    "South Dakota", "Rhode Island", "Colorado", "Texas",
)
SLOGANS = (
    "Sunshine State", "LAND OF LINCOLN", "The Natural State", "Grand Canyon State", "Famous Potatoes",
    "Great Lakes Splendor", "America's Dairyland", "visitPA.com", "Ocean State", "Garden State", "ALOHA STATE",
    "The Spirit of America", "Treasure the Chesapeake", "FIRST IN FLIGHT", "Live Free or Die", "Wild Wonderful",
    "Lone Star State", "Peace Garden State", "Heart of Dixie", "10,000 Lakes", "Celebrate Freedom", "COUNTY",
)
PATTERNS = (
    "LLL DDDD", "DLLL DDD", "DDD LLL", "LLL DDD", "DLL DDD", "LL DDDDD", "DDDDDD", "LLDDDDD", "DDD DDD",
    "D LLL DDD", "LL DDDD", "DDDD LL", "LLL LDD", "DDDLLL", "LLL DLL", "DD LLL", "DLLDDD", "LDD LLL",
    "DDD LDD", "LLLLDDD", "DDLLLDD", "LLL DDDL",
)
INKS = ((20, 20, 20), (120, 40, 15), (20, 20, 130), (20, 90, 20), (110, 20, 70), (40, 40, 90), (150, 80, 10))
LIGHT = ((245, 245, 245), (235, 240, 250), (250, 238, 220), (220, 235, 250), (215, 245, 250), (235, 250, 235))


def _col(rng: np.random.Generator, base: tuple[int, int, int], amount: int = 25) -> tuple[int, int, int]:
    c = np.clip(np.array(base) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


def _rand_col(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, 3))  # type: ignore[return-value]


def _text(rng: np.random.Generator, body: str) -> str:
    if rng.random() < 0.12:  # vanity plates: letters (and a digit or two), any length
        n = int(rng.integers(3, 8))
        t = "".join(rng.choice(list("ABCDEFGHIJKLMNPRSTUVWXYZ0123456789" if rng.random() < 0.3 else
                                    "ABCDEFGHIJKLMNOPRSTUVWXYZ"), n))
    else:
        pat = PATTERNS[int(rng.integers(len(PATTERNS)))]
        t = "".join(str(rng.integers(10)) if p == "D" else chr(65 + int(rng.integers(26))) if p == "L" else p
                    for p in pat)
    return t.replace("O", "0") if any(k in body for k in O_IS_ZERO) else t


def _background(w: int, h: int, rng: np.random.Generator, held_out: bool) -> np.ndarray:
    """Plain, gradient, yellow, dark, or a picture (sky, hills, sun); 'waves' only when held out."""
    kind = "waves" if held_out else rng.choice(["plain", "gradient", "picture", "picture", "yellow", "dark"],
                                                p=[0.2, 0.2, 0.25, 0.15, 0.1, 0.1])
    base = np.array(_col(rng, LIGHT[int(rng.integers(len(LIGHT)))]), np.float32)
    img: np.ndarray = np.empty((h, w, 3), np.float32)
    img[:] = base
    if kind == "yellow":
        img[:] = _col(rng, (40, 200, 245), 30)
    elif kind == "dark":
        img[:] = _col(rng, (110, 60, 30), 60) if rng.random() < 0.6 else _col(rng, (40, 40, 40), 30)
    elif kind == "gradient":
        other = np.array(_col(rng, _rand_col(rng), 0), np.float32) * 0.5 + 127
        t = np.linspace(0, 1, h if rng.random() < 0.7 else w, dtype=np.float32)
        t = t[:, None, None] if len(t) == h else t[None, :, None]
        img = img * (1 - t * 0.8) + other * t * 0.8
    elif kind == "picture":
        for _ in range(int(rng.integers(1, 5))):
            c = np.array(_rand_col(rng), np.float32) * float(rng.uniform(0.3, 1.0)) + float(rng.uniform(0, 150))
            xs = np.sort(rng.uniform(-0.2, 1.2, int(rng.integers(3, 7)))) * w
            ys = rng.uniform(0.35, 1.0, len(xs)) * h
            poly = np.array([[xs[0], h], *zip(xs, ys, strict=True), [xs[-1], h]], np.int32)
            cv2.fillPoly(img, [poly], np.clip(c, 0, 255).tolist(), cv2.LINE_AA)
        if rng.random() < 0.5:
            cv2.circle(img, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.uniform(0.1, 0.4) * h),
                       _rand_col(rng), -1, cv2.LINE_AA)
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.5, 3.0)))
        img = img * 0.55 + base * 0.45 if rng.random() < 0.6 else img
    else:  # waves (held out)
        yy = np.arange(h, dtype=np.float32)[:, None]
        xx = np.arange(w, dtype=np.float32)[None, :]
        band = np.sin(xx / w * float(rng.uniform(3, 9)) + yy / h * 4) * 0.5 + 0.5
        img = img * (1 - 0.6 * band[..., None]) + np.array(_rand_col(rng), np.float32) * 0.6 * band[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _font(path: str, fonts: Path, size: float) -> ImageFont.FreeTypeFont:
    p = path if path.startswith("/") else str(fonts / path)
    return ImageFont.truetype(p, max(6, int(size)))


def _small_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font, fill, anchor="mt") -> None:
    draw.text(xy, text, font=font, fill=fill, anchor=anchor)


def _decor(im: Image.Image, fonts: Path, rng: np.random.Generator, dark: bool) -> None:
    """State name, slogan, stickers, border and bolts: text and marks that are not the plate's."""
    w, h = im.size
    d = ImageDraw.Draw(im)
    hf = HEADER[int(rng.integers(len(HEADER)))]
    light_txt = (230, 230, 230)
    if rng.random() < 0.25:  # a coloured band behind the state name
        band = _rand_col(rng)
        d.rectangle([0, 0, w, int(h * rng.uniform(0.15, 0.24))], fill=band)
        hc = light_txt if sum(band) < 380 else (20, 20, 20)
    else:
        hc = light_txt if dark else _col(rng, INKS[int(rng.integers(len(INKS)))], 40)
    if rng.random() < 0.9:
        name = STATES[int(rng.integers(len(STATES)))]
        name = name.title() if rng.random() < 0.35 else name
        _small_text(d, (w * rng.uniform(0.4, 0.6), h * rng.uniform(0.02, 0.08)), name,
                    _font(hf, fonts, h * rng.uniform(0.11, 0.2)), hc)
    if rng.random() < 0.75:
        fc = light_txt if dark else _col(rng, INKS[int(rng.integers(len(INKS)))], 40)
        slogan = SLOGANS[int(rng.integers(len(SLOGANS)))]
        _small_text(d, (w * rng.uniform(0.4, 0.6), h * rng.uniform(0.8, 0.9)), slogan,
                    _font(HEADER[int(rng.integers(len(HEADER)))], fonts, h * rng.uniform(0.07, 0.13)), fc, "mm")
    for corner in (0, 1):
        if rng.random() < 0.4:  # registration sticker with its own digits
            sw, sh = w * rng.uniform(0.07, 0.14), h * rng.uniform(0.1, 0.18)
            x0 = w * rng.uniform(0.02, 0.08) if corner == 0 else w * rng.uniform(0.78, 0.91)
            y0 = h * rng.uniform(0.03, 0.12) if rng.random() < 0.7 else h * rng.uniform(0.7, 0.82)
            d.rectangle([x0, y0, x0 + sw, y0 + sh], fill=_rand_col(rng))
            sticker = str(rng.integers(1, 32)) if rng.random() < 0.6 else ["JAN", "FEB", "SEP", "OCT", "MAY"][
                int(rng.integers(5))]
            _small_text(d, (x0 + sw / 2, y0 + sh / 2), sticker, _font(HEADER[2], fonts, sh * 0.7), (20, 20, 20), "mm")
    if rng.random() < 0.6:
        t = max(1, int(h * rng.uniform(0.01, 0.03)))
        d.rounded_rectangle([t, t, w - t, h - t], radius=int(h * 0.06), outline=_rand_col(rng), width=t)
    if rng.random() < 0.5:
        r = h * 0.035
        for bx in (0.22, 0.78):
            for by in ((0.12, 0.88) if rng.random() < 0.5 else (0.12,)):
                d.ellipse([w * bx - r, h * by - r, w * bx + r, h * by + r], fill=(150, 150, 150), outline=(70, 70, 70))


def _characters(im: Image.Image, text: str, body: str, fonts: Path, rng: np.random.Generator, dark: bool) -> None:
    """The plate text: groups split by a space, dash, dot or a small logo; embossed at times."""
    w, h = im.size
    cap = h * rng.uniform(0.38, 0.56)
    font = _font(body, fonts, cap * 1.4)
    sep = rng.choice(["gap", "dash", "dot", "logo", "none"], p=[0.35, 0.2, 0.1, 0.2, 0.15])
    groups = text.split(" ")
    layer = Image.new("L", (int(cap * 1.2 * (len(text) + 2)) + 20, int(cap * 2.2)), 0)
    ld = ImageDraw.Draw(layer)
    marks = Image.new("L", layer.size, 0)
    md = ImageDraw.Draw(marks)
    x, y = 10.0, cap * 0.3
    track = cap * rng.uniform(0.02, 0.2)
    for gi, g in enumerate(groups):
        for c in g:
            ld.text((x, y), c, font=font, fill=255)
            x += font.getlength(c) + track
        if gi < len(groups) - 1:
            gap = cap * rng.uniform(0.25, 0.8)
            cx, cy = x + gap / 2 - track / 2, y + cap * 0.75
            if sep == "dash":
                md.rectangle([cx - cap * 0.15, cy - cap * 0.05, cx + cap * 0.15, cy + cap * 0.05], fill=255)
            elif sep == "dot":
                md.ellipse([cx - cap * 0.07, cy - cap * 0.07, cx + cap * 0.07, cy + cap * 0.07], fill=255)
            elif sep == "logo":
                r = cap * rng.uniform(0.2, 0.4)
                pts = [(cx + r * np.cos(a) * rng.uniform(0.5, 1.2), cy + r * np.sin(a) * rng.uniform(0.5, 1.2))
                       for a in np.linspace(0, 2 * np.pi, int(rng.integers(4, 9)), endpoint=False)]
                md.polygon(pts, fill=255)
            x += gap if sep != "none" else 0
    both = np.maximum(np.asarray(layer), np.asarray(marks))
    box = Image.fromarray(both).getbbox()
    if box is None:
        return
    glyphs = both[box[1] : box[3], box[0] : box[2]]
    gh = int(cap)
    gw = int(glyphs.shape[1] * gh / max(1, glyphs.shape[0]) * rng.uniform(0.8, 1.15))
    gw = min(gw, int(w * rng.uniform(0.78, 0.9)))
    glyphs = cv2.resize(glyphs, (max(4, gw), max(4, gh)), interpolation=cv2.INTER_AREA)
    x0 = int((w - gw) / 2 + w * rng.uniform(-0.02, 0.02))
    y0 = int(h * rng.uniform(0.5, 0.58) - gh / 2)
    ink = _col(rng, (235, 235, 235), 15) if dark else _col(rng, INKS[int(rng.integers(len(INKS)))], 30)
    arr = np.asarray(im).astype(np.float32)
    a = np.zeros(arr.shape[:2], np.float32)
    ys, xs = slice(max(0, y0), min(h, y0 + gh)), slice(max(0, x0), min(w, x0 + gw))
    a[ys, xs] = glyphs[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0] / 255.0
    if rng.random() < 0.3:  # embossed: a shade beside every stroke
        off = max(1, int(cap * 0.04))
        sh = np.roll(np.roll(a, off, 0), off, 1) * 0.5
        arr = arr * (1 - sh[..., None]) + np.array((40, 40, 40), np.float32) * sh[..., None]
    arr = arr * (1 - a[..., None]) + np.array(ink, np.float32) * a[..., None]
    im.paste(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)))


def render(rng: np.random.Generator, fonts: Path, held_out: bool = False) -> LineSample:
    """One US-style plate, cut loose or tight, warped and damaged -> grey LineSample (source synth-us)."""
    bodies = BODY_HELD_OUT if held_out else BODY
    body = bodies[int(rng.integers(len(bodies)))]
    text = _text(rng, body)
    h = int(rng.integers(70, 110))
    w = int(h * rng.uniform(1.85, 2.15))
    bg = _background(w, h, rng, held_out)
    dark = float(bg.mean()) < 110
    im = Image.fromarray(bg)
    _decor(im, fonts, rng, dark)
    _characters(im, text, body, fonts, rng, dark)
    plate = np.asarray(im)
    return LineSample(_photo(plate, rng), text.replace(" ", ""), "synth-heldout" if held_out else "synth-us")


def _photo(plate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Margins from the car around it (or cut into the plate), a small turn and tilt, then camera damage."""
    h, w = plate.shape[:2]
    ml, mr = (rng.uniform(-0.02, 0.12, 2) * w).tolist()
    mt, mb = (rng.uniform(-0.06, 0.25, 2) * h).tolist()
    ow, oh = int(w + ml + mr), int(h + mt + mb)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = src + np.array([ml, mt], np.float32) + rng.uniform(-1, 1, (4, 2)).astype(np.float32) * [0.02 * w, 0.05 * h]
    ang = np.deg2rad(rng.uniform(-4, 4))
    c = np.array([ow / 2, oh / 2], np.float32)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    dst = (dst - c) @ rot.T + c
    surround: np.ndarray = np.full((oh, ow, 3), _rand_col(rng), np.uint8)
    surround = cv2.add(surround, rng.integers(0, 40, (oh, ow, 3), dtype=np.uint8))
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    out = cv2.warpPerspective(plate, m, (ow, oh), dst=surround, borderMode=cv2.BORDER_TRANSPARENT)
    f: np.ndarray = out.astype(np.float32)
    if rng.random() < 0.4:
        f = cv2.GaussianBlur(f, (0, 0), float(rng.uniform(0.4, 1.6)))
    if rng.random() < 0.25:  # low resolution
        s = float(rng.uniform(0.3, 0.6))
        f = cv2.resize(cv2.resize(f, (max(8, int(ow * s)), max(8, int(oh * s)))), (ow, oh))
    if rng.random() < 0.3:  # low light
        f = f * float(rng.uniform(0.15, 0.5))
    light = np.linspace(float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.6, 1.0)), ow, dtype=np.float32)
    f = f * light[None, :, None] + rng.normal(0, float(rng.uniform(0, 8)), f.shape).astype(np.float32)
    u8: np.ndarray = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, enc = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
        u8 = np.asarray(cv2.imdecode(enc, cv2.IMREAD_COLOR)) if ok else u8
    return np.asarray(cv2.cvtColor(u8, cv2.COLOR_BGR2GRAY))


def render_many(n: int, fonts: Path, seed: int, held_out: bool = False) -> list[LineSample]:
    rng = np.random.default_rng(seed)
    return [render(rng, fonts, held_out) for _ in range(n)]
