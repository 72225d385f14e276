"""Loaders for every labelled layout in the shared data, for training (convert/) and `edge-ocr bench`.

Character samples are normalised to one convention so callers never guess polarity: `CharSample.image`
is a grey uint8 crop with DARK ink on a LIGHT background (call the preprocessing with
`dark_on_light=True`). Every sample carries a `group` (plate, page line, writer, font) so held-out
splits keep all views of one physical thing on the same side: tiles of one plate seen in two frames
would otherwise leak between train and test and flatter the accuracy.

No TensorFlow here: the device package imports this for benchmarks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.errors import SourceError
from edge_ocr.paths import data_root
from edge_ocr.types import CHARS62, PLATE_LABELS

MAX_ASPECT = 1.0  # width / height above which a "character" box is taken to be a labelling error
PAD_FRAC = 0.08  # pad around a labelled box, as a fraction of its height: the preprocess tightens to ink


@dataclass(frozen=True, eq=False)
class CharSample:
    """One character crop: grey uint8, dark ink on light background."""

    image: np.ndarray
    label: str
    source: str
    group: str
    origin: str = ""  # the file (and box) the crop came from, for error galleries and data cleaning


def split_of(group: str, val: float = 0.1, test: float = 0.1, salt: str = "edge-ocr") -> str:
    """Deterministic 'train' / 'val' / 'test' from a hash of the group, stable across machines and runs."""
    h = int.from_bytes(hashlib.sha1(f"{salt}:{group}".encode()).digest()[:8], "big") / 2.0**64
    if h < test:
        return "test"
    if h < test + val:
        return "val"
    return "train"


def read_gray(path: Path) -> np.ndarray:
    """Grey uint8 image; alpha (Chars74K) is composited onto white so transparent means background."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SourceError(f"cannot read image {path}")
    if img.ndim == 2:
        return img if img.dtype == np.uint8 else cv2.convertScaleAbs(img)
    if img.shape[2] == 4:
        alpha = img[..., 3:4].astype(np.float32) / 255.0
        rgb = img[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def dark_on_light(gray: np.ndarray) -> np.ndarray:
    """Invert crops whose border is darker than their middle (light ink), so all samples agree."""
    border = np.concatenate([gray[0, :], gray[-1, :], gray[:, 0], gray[:, -1]]).astype(np.float32)
    return gray if float(np.median(border)) >= float(gray.mean()) else 255 - gray


def crop_box(img: np.ndarray, x1: int, y1: int, x2: int, y2: int, pad_frac: float = PAD_FRAC) -> np.ndarray:
    """Crop [x1,x2) x [y1,y2) image coordinates with a pad relative to the box height, clipped."""
    pad = max(1, round(pad_frac * (y2 - y1)))
    h, w = img.shape[:2]
    xa, ya = max(0, x1 - pad), max(0, y1 - pad)
    xb, yb = min(w, x2 + pad), min(h, y2 + pad)
    return img[ya:yb, xa:xb].copy()


def sorted_files(folder: Path, patterns: Iterable[str]) -> list[Path]:
    """Matching files, sorted; macOS '._' resource forks shipped with some sources are skipped."""
    return sorted(p for pat in patterns for p in folder.glob(pat) if not p.name.startswith("._"))


def require_dir(path: Path) -> Path:
    if not path.is_dir():
        raise SourceError(f"data folder not found: {path}")
    return path


def tile_group(gray: np.ndarray, label: str) -> str:
    """Tiles carry no plate id; a coarse binary fingerprint groups near-duplicate views of one glyph."""
    small = cv2.resize(gray, (6, 12), interpolation=cv2.INTER_AREA)
    bits = (small > small.mean()).astype(np.uint8).tobytes()
    return f"{label}:{hashlib.sha1(bits).hexdigest()[:10]}"


def load_plate_tiles(root: Path | None = None, countries: Iterable[str] | None = None) -> list[CharSample]:
    """chars/plate-tiles/{country}/LABEL/*.jpg: binarised OpenALPR training tiles (all countries by default)."""
    top = require_dir(data_root(root) / "chars" / "plate-tiles")
    names = sorted(p.name for p in top.iterdir() if p.is_dir()) if countries is None else list(countries)
    out = []
    for country in names:
        base = require_dir(top / country)
        for label_dir in sorted(p for p in base.iterdir() if p.is_dir()):
            for f in sorted_files(label_dir, ["*.jpg", "*.png"]):
                img = dark_on_light(read_gray(f))
                group = f"tiles-{country}/{tile_group(img, label_dir.name)}"
                out.append(CharSample(img, label_dir.name, f"plate-tiles-{country}", group, str(f)))
    return out


def parse_box_lines(text: str) -> list[tuple[str, int, int, int, int]]:
    """Tesseract .box lines `char x1 y1 x2 y2 page`; y is measured from the BOTTOM of the page."""
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 5:
            raise SourceError(f"bad .box line {n}: {line!r}")
        rows.append((parts[0], *(int(v) for v in parts[1:5])))
    return rows  # type: ignore[return-value]


def load_box_page(tif: Path, box: Path, source: str) -> list[CharSample]:
    """Crop every box of one page; the group is the text line (x restarting marks a new line)."""
    page = read_gray(tif)
    h = page.shape[0]
    out, line, last_x = [], 0, -1
    for ch, x1, y1, x2, y2 in parse_box_lines(box.read_text()):
        if x1 < last_x:
            line += 1
        last_x = x1
        crop = crop_box(page, x1, h - y2, x2, h - y1)  # flip: image rows grow downwards
        if crop.size:
            origin = f"{tif}:{x1},{y1},{x2},{y2}"
            out.append(CharSample(dark_on_light(crop), ch, source, f"{tif.stem}/line{line}", origin))
    return out


def load_box_pages(root: Path | None = None) -> list[CharSample]:
    """chars/plate-box-pages/*.tif + .box: plate fonts of several countries, one glyph per box."""
    base = require_dir(data_root(root) / "chars" / "plate-box-pages")
    out = []
    for tif in sorted_files(base, ["*.tif"]):
        box = tif.with_suffix(".box")
        if box.exists():
            out.extend(load_box_page(tif, box, "plate-box-pages"))
    return out


def yolo_to_xyxy(line: str, w: int, h: int) -> tuple[int, int, int, int, int]:
    """`cls cx cy bw bh` normalised -> (cls, x1, y1, x2, y2) pixels."""
    c, cx, cy, bw, bh = line.split()[:5]
    fx, fy, fw, fh = float(cx) * w, float(cy) * h, float(bw) * w, float(bh) * h
    x1, y1 = round(fx - fw / 2), round(fy - fh / 2)
    return int(c), x1, y1, round(x1 + fw), round(y1 + fh)


def _vn_plate_texts(labels: Path) -> dict[str, str]:
    """ocr_result.txt maps image -> plate text; used to group repeated photos of one plate."""
    f = labels / "ocr_result.txt"
    texts: dict[str, str] = {}
    if f.exists():
        for line in f.read_text().splitlines():
            if "->" in line:
                name, text = (s.strip() for s in line.split("->", 1))
                texts[Path(name).stem] = text
    return texts


def load_vn_char_boxes(root: Path | None = None, exclude: Iterable[str] = ()) -> list[CharSample]:
    """plates/vn-char-boxes: YOLO per-character boxes on plate crops; '-' and '.' boxes dropped.

    `exclude` lists image stems to skip (images whose boxes are known to be misaligned).
    """
    base = require_dir(data_root(root) / "plates" / "vn-char-boxes")
    texts = _vn_plate_texts(base / "labels")
    skip = set(exclude)
    out = []
    for img_path in sorted_files(base / "images", ["*.jpg", "*.png"]):
        lab = base / "labels" / f"{img_path.stem}.txt"
        if not lab.exists() or img_path.stem in skip:
            continue
        gray = read_gray(img_path)
        h, w = gray.shape
        group = "vn/" + texts.get(img_path.stem, img_path.stem).replace("-", "").replace(".", "")
        for line in lab.read_text().splitlines():
            if not line.strip():
                continue
            cls, x1, y1, x2, y2 = yolo_to_xyxy(line, w, h)
            if not 0 <= cls < 36:
                continue
            if x2 - x1 > MAX_ASPECT * (y2 - y1):
                continue  # a box wider than tall holds two glyphs: a known labelling slip in this set
            crop = crop_box(gray, x1, y1, x2, y2)
            if min(crop.shape[:2]) >= 4:
                label = PLATE_LABELS[cls]
                out.append(CharSample(dark_on_light(crop), label, "vn-char-boxes", group, img_path.stem))
    return out


def load_in_plate_chars(root: Path | None = None) -> list[CharSample]:
    """chars/in-plate-chars/{train,val}/class_X: Indian plate characters (no plate id: file is the group)."""
    base = require_dir(data_root(root) / "chars" / "in-plate-chars")
    out = []
    for part in ("train", "val"):
        for cdir in sorted((base / part).glob("class_*")):
            label = cdir.name.split("_", 1)[1]
            for f in sorted_files(cdir, ["*.jpg", "*.png"]):
                img = dark_on_light(read_gray(f))
                out.append(CharSample(img, label, "in-plate-chars", f"in/{tile_group(img, label)}", str(f)))
    return out


def load_chars74k_good(root: Path | None = None) -> list[CharSample]:
    """chars74k/img-good/SampleNNN: natural-image characters; class = NNN-1 over 0-9A-Za-z."""
    base = require_dir(data_root(root) / "chars74k" / "img-good")
    out = []
    for sdir in sorted(base.glob("Sample*")):
        label = CHARS62[int(sdir.name[6:]) - 1]
        for f in sorted_files(sdir, ["*.png"]):
            img = dark_on_light(read_gray(f))
            out.append(CharSample(img, label, "chars74k-good", f"good/{f.stem}", str(f)))
    return out


def load_chars74k_fnt(root: Path | None = None) -> list[CharSample]:
    """chars74k/fnt-28x28.npz: font renders; the n-th sample of a class is the n-th font (the group)."""
    f = data_root(root) / "chars74k" / "fnt-28x28.npz"
    if not f.exists():
        raise SourceError(f"data file not found: {f}")
    data = np.load(f)
    images, labels = data["images"], data["labels"]
    out, seen = [], dict.fromkeys(np.unique(labels).tolist(), 0)
    for img, lab in zip(images, labels, strict=True):
        label = str(lab)
        out.append(CharSample(dark_on_light(img), label, "chars74k-fnt", f"fnt/font{seen[label]}"))
        seen[label] += 1
    return out


def draw_strokes(strokes: list[list[list[float]]], size: int = 64, thickness: int = 4) -> np.ndarray:
    """Render pen strokes dark-on-light, scaled to fit a size x size canvas with the aspect kept."""
    pts = np.concatenate([np.asarray(s, np.float32).reshape(-1, 2) for s in strokes if s])
    lo, span = pts.min(0), max(float((pts.max(0) - pts.min(0)).max()), 1.0)
    inner, img = size - 2 * thickness - 4, np.full((size, size), 255, np.uint8)
    off = (size - (pts.max(0) - lo) / span * inner) / 2
    for s in strokes:
        p = ((np.asarray(s, np.float32).reshape(-1, 2) - lo) / span * inner + off).astype(np.int32)
        cv2.polylines(img, [p], False, 0, thickness, cv2.LINE_AA)
    return img


def load_chars74k_hnd(root: Path | None = None) -> list[CharSample]:
    """chars74k/hnd/char74k.json: handwriting as strokes, drawn here; group = writer sample index."""
    f = data_root(root) / "chars74k" / "hnd" / "char74k.json"
    if not f.exists():
        raise SourceError(f"data file not found: {f}")
    data = json.loads(f.read_text())
    return [
        CharSample(draw_strokes(sample), ch, "chars74k-hnd", f"hnd/writer{i}")
        for ch in sorted(data)
        for i, sample in enumerate(data[ch])
        if any(sample)
    ]


CHAR_LOADERS: dict[str, Callable[[Path | None], list[CharSample]]] = {
    "plate-tiles": load_plate_tiles,
    "plate-box-pages": load_box_pages,
    "vn-char-boxes": load_vn_char_boxes,
    "in-plate-chars": load_in_plate_chars,
    "chars74k-good": load_chars74k_good,
    "chars74k-fnt": load_chars74k_fnt,
    "chars74k-hnd": load_chars74k_hnd,
}


def load_chars(
    names: Iterable[str], root: Path | None = None, labels: str | None = PLATE_LABELS
) -> list[CharSample]:
    """Samples from the named layouts, keeping only `labels` (None keeps everything)."""
    out: list[CharSample] = []
    for name in names:
        if name not in CHAR_LOADERS:
            raise SourceError(f"unknown character dataset {name!r}; known: {sorted(CHAR_LOADERS)}")
        out.extend(s for s in CHAR_LOADERS[name](root) if labels is None or s.label in labels)
    return out
