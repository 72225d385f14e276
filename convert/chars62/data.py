"""Assemble the 62-class (0-9 A-Z a-z) character set for the general reader, with documented splits.

Sources and how each is held out (so every reported accuracy is on things the model never saw):
- Chars74K GoodImg (natural images, the acceptance set): stratified per class with a fixed seed,
  test 15 % / val 10 % / train 75 %.
- Chars74K EnglishHnd (pen strokes): split by writer sample index (0-41 train, 42-46 val, 47-54 test);
  the test writers are also the only handwriting the text-mode pages are drawn from.
- Chars74K EnglishFnt (34 classes, no I/O and no lowercase): split by font (hash of the group).
- Synthetic renders (edge_ocr.synth.render_char) with system fonts, all 62 classes: training only.
- Synthetic scene tiles (convert.chars62.scene: the same fonts on real textures from negatives/,
  either polarity, neighbour fragments, stretched to a square like GoodImg): training only.
  The committed fonts (edge_ocr/data/fonts) are left out so the text-mode pages use unseen fonts.

Clean sources (fonts, strokes, renders) are first cut to their ink box plus a pad, which is what
the text-mode segmenter hands the classifier; GoodImg crops already are box crops of the character.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from convert.plate_chars.data import CharArrays, to_arrays
from edge_ocr.bench.datasets import (
    CHARS62,
    CharSample,
    load_chars74k_fnt,
    load_chars74k_good,
    load_chars74k_hnd,
    split_of,
)
from edge_ocr.preprocess import PreprocessSpec
from edge_ocr.text.render import HND_TEST_WRITER_FROM

SPLITS = ("train", "val", "test")
GOOD_TEST, GOOD_VAL, SPLIT_SEED = 0.15, 0.10, 0
HND_TRAIN_WRITERS = 42  # writer index < 42 train, < HND_TEST_WRITER_FROM (47) val, else test
BOX_PAD = 0.08  # same pad as edge_ocr.reader.classify.pad_box
_EXCLUDE_FONT_WORDS = ("symbol", "math", "d050000l", "z003", "extralight")
LICENCES62 = {
    "chars74k-good": "Chars74K EnglishImg GoodImg (de Campos et al., VISAPP 2009)",
    "chars74k-fnt": "Chars74K EnglishFnt (de Campos et al., VISAPP 2009)",
    "chars74k-hnd": "Chars74K EnglishHnd via aparrish/chars74k-json-dump (CC0 code)",
    "synth": "rendered by edge_ocr.synth.render_char from Debian-packaged fonts",
    "scene": "rendered by convert.chars62.scene from Debian-packaged fonts on textures cut from"
    " negatives/ (openalpr/train-detector raw-neg, AGPL-3.0)",
}


@dataclass(frozen=True)
class DataConfig:
    fnt_per_class: int = 150  # EnglishFnt train samples kept per class (1016 fonts are there)
    synth_per_class: int = 60
    scene_per_class: int = 0  # synthetic natural-scene tiles (convert.chars62.scene), training only
    seed: int = 0


def good_split(samples: Sequence[CharSample], seed: int = SPLIT_SEED) -> np.ndarray:
    """Stratified split of GoodImg: per class, a seeded shuffle, first 15 % test, next 10 % val."""
    out = np.array(["train"] * len(samples), dtype=object)
    labels = np.array([s.label for s in samples])
    rng = np.random.default_rng(seed)
    for ch in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == ch)
        idx = idx[rng.permutation(len(idx))]
        n_test, n_val = round(GOOD_TEST * len(idx)), round(GOOD_VAL * len(idx))
        out[idx[:n_test]] = "test"
        out[idx[n_test : n_test + n_val]] = "val"
    return out.astype(str)


def hnd_writer(group: str) -> int:
    return int(group.rsplit("writer", 1)[1])


def hnd_split(samples: Sequence[CharSample]) -> np.ndarray:
    """EnglishHnd by writer sample index: the same writer never appears on two sides."""
    w = np.array([hnd_writer(s.group) for s in samples])
    return np.where(w < HND_TRAIN_WRITERS, "train", np.where(w < HND_TEST_WRITER_FROM, "val", "test"))


def ink_box_crop(gray: np.ndarray, pad_frac: float = BOX_PAD) -> np.ndarray:
    """Cut a dark-on-light clean glyph to its ink box plus a pad (what a contour segmenter yields)."""
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        return gray
    x1, x2, y1, y2 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    pad = max(1, round(pad_frac * (y2 - y1)))
    h, w = gray.shape
    return gray[max(0, y1 - pad) : min(h, y2 + pad), max(0, x1 - pad) : min(w, x2 + pad)]


def boxed(samples: Sequence[CharSample]) -> list[CharSample]:
    return [CharSample(ink_box_crop(s.image), s.label, s.source, s.group) for s in samples]


def training_fonts62(exclude: Sequence[Path] = ()) -> tuple[Path, ...]:
    """Every installed text font (serif, sans, mono, italics) except symbols and the excluded names."""
    names = {p.name for p in exclude}
    fonts = [
        p
        for p in sorted(Path("/usr/share/fonts").rglob("*"))
        if p.suffix.lower() in (".ttf", ".otf")
        and p.name not in names
        and not any(w in p.name.lower() for w in _EXCLUDE_FONT_WORDS)
    ]
    return tuple(fonts)


def synth_samples(n_per_class: int, seed: int) -> list[CharSample]:
    from edge_ocr.synth import committed_fonts, render_char

    fonts = training_fonts62(exclude=committed_fonts())
    rng = np.random.default_rng(seed)
    return [
        CharSample(render_char(ch, rng, (48, 40), fonts), ch, "synth", f"synth/{ch}{i}")
        for ch in CHARS62
        for i in range(n_per_class)
    ]


def _tag(arrays: CharArrays, split: np.ndarray) -> dict[str, CharArrays]:
    return {name: arrays.take(split == name) for name in SPLITS}


def _subsample(a: CharArrays, per_class: int, seed: int) -> CharArrays:
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(a), bool)
    for c in np.unique(a.y):
        idx = np.flatnonzero(a.y == c)
        keep[rng.choice(idx, min(per_class, len(idx)), replace=False)] = True
    return a.take(keep)


def _cached(cache: Path | None, key: str, make: Callable[[], dict[str, CharArrays]]) -> dict[str, CharArrays]:
    f = cache / f"{key}.npz" if cache is not None else None
    if f is not None and f.exists():
        d = np.load(f)
        return {s: CharArrays(d[f"{s}_x"], d[f"{s}_y"], d[f"{s}_source"], d[f"{s}_group"]) for s in SPLITS}
    parts = make()
    if f is not None:
        f.parent.mkdir(parents=True, exist_ok=True)
        flat = {f"{s}_{k}": getattr(parts[s], k) for s in SPLITS for k in ("x", "y", "source", "group")}
        np.savez(f, **flat)
    return parts


def source_splits(
    name: str, root: Path | None, spec: PreprocessSpec, cfg: DataConfig, cache: Path | None
) -> dict[str, CharArrays]:
    """train/val/test arrays of one source, preprocessed with `spec` (cached per spec)."""
    key = f"{name}-{spec.size}-{spec.margin}-{int(spec.tighten)}-{cfg.fnt_per_class}-{cfg.synth_per_class}-{cfg.seed}"
    if name == "scene":
        key = f"scene-{spec.size}-{spec.margin}-{int(spec.tighten)}-{cfg.scene_per_class}-{cfg.seed}"

    def make() -> dict[str, CharArrays]:
        if name == "chars74k-good":
            s = load_chars74k_good(root)
            return _tag(to_arrays(s, spec, CHARS62), good_split(s))
        if name == "chars74k-hnd":
            s = boxed(load_chars74k_hnd(root))
            return _tag(to_arrays(s, spec, CHARS62), hnd_split(s))
        if name == "chars74k-fnt":
            s = boxed(load_chars74k_fnt(root))
            parts = _tag(to_arrays(s, spec, CHARS62), np.array([split_of(x.group) for x in s]))
            parts["train"] = _subsample(parts["train"], cfg.fnt_per_class, cfg.seed)
            return parts
        if name == "synth":
            a = to_arrays(boxed(synth_samples(cfg.synth_per_class, cfg.seed)), spec, CHARS62)
            return _tag(a, np.array(["train"] * len(a)))
        if name == "scene":
            from convert.chars62.scene import scene_samples
            from edge_ocr.synth import committed_fonts

            fonts = training_fonts62(exclude=committed_fonts())
            a = to_arrays(scene_samples(cfg.scene_per_class, cfg.seed, fonts, root), spec, CHARS62)
            return _tag(a, np.array(["train"] * len(a)))
        raise ValueError(f"unknown source {name!r}")

    return _cached(cache, key, make)


def load62(
    root: Path | None,
    spec: PreprocessSpec,
    cfg: DataConfig = DataConfig(),
    sources: Sequence[str] | None = None,
    cache: Path | None = None,
) -> dict[str, CharArrays]:
    """All sources concatenated per split; `source` on each row says where it came from.

    Default sources: the three Chars74K sets and the font renders, plus the scene tiles when
    `cfg.scene_per_class` asks for them.
    """
    if sources is None:
        sources = ("chars74k-good", "chars74k-fnt", "chars74k-hnd", "synth")
        sources += ("scene",) if cfg.scene_per_class > 0 else ()
    per = [source_splits(n, root, spec, cfg, cache) for n in sources]
    return {s: CharArrays.concat(p[s] for p in per) for s in SPLITS}


def split_counts(data: dict[str, CharArrays]) -> dict[str, dict[str, int]]:
    return {s: {str(k): int((a.source == k).sum()) for k in np.unique(a.source)} for s, a in data.items()}
