"""Assemble the 36-class plate-character set (0-9 A-Z) as model-ready arrays, split by group.

Real plate characters come from four layouts (tiles, Tesseract box pages, YOLO-boxed plates, Indian
plate characters); Chars74K font renders and the synthetic renderer add font variety for plates
never seen in training (US plates use many typefaces). Lowercase never enters the plate model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_ocr.bench.datasets import CharSample, load_chars, load_vn_char_boxes, split_of
from edge_ocr.preprocess import PreprocessSpec, char_input
from edge_ocr.types import PLATE_LABELS

# convert/vn_misaligned.txt (one folder up since the move into plate_chars/, which read no list at all)
VN_MISALIGNED = Path(__file__).resolve().parent.parent / "vn_misaligned.txt"
REAL_SOURCES = ("plate-tiles", "plate-box-pages", "vn-char-boxes", "in-plate-chars")
EXTRA_SOURCES = ("chars74k-fnt",)
LICENCES = {
    "plate-tiles": "openalpr/train-ocr, AGPL-3.0",
    "plate-box-pages": "openalpr/train-ocr, AGPL-3.0",
    "vn-char-boxes": "vitocolerole/label_plate_number, no licence stated",
    "in-plate-chars": "SarthakV7/AI-based-indian-license-plate-detection, GPL-3.0",
    "chars74k-fnt": "Chars74K EnglishFnt (de Campos et al., VISAPP 2009)",
    "synth": "rendered by edge_ocr.synth from Debian-packaged fonts",
}


def vn_excluded(path: Path = VN_MISALIGNED) -> list[str]:
    """Image stems of vn-char-boxes with misaligned boxes (see the header of the file for how)."""
    if not path.exists():
        return []
    return [
        s for s in (line.strip() for line in path.read_text().splitlines()) if s and not s.startswith("#")
    ]


@dataclass(frozen=True, eq=False)
class CharArrays:
    """Model inputs (N, size, size, 1) float32, class ids, and where each row came from."""

    x: np.ndarray
    y: np.ndarray
    source: np.ndarray
    group: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def take(self, mask: np.ndarray) -> CharArrays:
        return CharArrays(self.x[mask], self.y[mask], self.source[mask], self.group[mask])

    @staticmethod
    def concat(parts: Iterable[CharArrays]) -> CharArrays:
        ps = [p for p in parts if len(p)]
        return CharArrays(
            *(np.concatenate([getattr(p, f) for p in ps]) for f in ("x", "y", "source", "group"))
        )


def to_arrays(
    samples: list[CharSample], spec: PreprocessSpec, labels: str = PLATE_LABELS, progress: bool = True
) -> CharArrays:
    """Run the shared preprocessing over every crop (samples are dark-on-light by convention)."""
    index = {c: i for i, c in enumerate(labels)}
    keep = [s for s in samples if s.label in index]
    it = tqdm(keep, desc="preprocess", disable=not progress, mininterval=2.0)
    x = np.stack([char_input(s.image, spec, dark_on_light=True) for s in it])[..., None]
    return CharArrays(
        x.astype(np.float32),
        np.array([index[s.label] for s in keep], np.int64),
        np.array([s.source for s in keep]),
        np.array([s.group for s in keep]),
    )


def split_masks(groups: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks for train / val / test from the hash of each sample's group."""
    parts = np.array([split_of(str(g)) for g in groups])
    return {name: parts == name for name in ("train", "val", "test")}


def load_plate_arrays(
    root: Path | None,
    spec: PreprocessSpec,
    sources: Iterable[str] = REAL_SOURCES,
    cache: Path | None = None,
    progress: bool = True,
) -> CharArrays:
    """Load and preprocess the named sources, each cached on its own (preprocessing costs a minute)."""
    return CharArrays.concat(_source_arrays(root, spec, name, cache, progress) for name in sources)


def _source_arrays(
    root: Path | None, spec: PreprocessSpec, name: str, cache: Path | None, progress: bool
) -> CharArrays:
    clean = f"-x{len(vn_excluded())}" if name == "vn-char-boxes" else ""
    key = f"{name}{clean}-{spec.size}-{spec.margin}-{int(spec.tighten)}-{spec.low_pct}-{spec.high_pct}.npz"
    f = cache / key if cache is not None else None
    if f is not None and f.exists():
        d = np.load(f)
        return CharArrays(d["x"], d["y"], d["source"], d["group"])
    samples = load_vn_char_boxes(root, vn_excluded()) if name == "vn-char-boxes" else load_chars([name], root)
    arrays = to_arrays(samples, spec, progress=progress)
    if f is not None:
        f.parent.mkdir(parents=True, exist_ok=True)
        np.savez(f, x=arrays.x, y=arrays.y, source=arrays.source, group=arrays.group)
    return arrays


def synth_arrays(
    render: Callable[[str, np.random.Generator], np.ndarray],
    n_per_class: int,
    spec: PreprocessSpec,
    seed: int,
    cache: Path | None = None,
    tag: str = "",
) -> CharArrays:
    """Rendered characters (all go to training: they are never used to measure accuracy).

    `tag` names the renderer's settings (e.g. its font set) in the cache file name.
    """
    name = f"synth-{n_per_class}-{seed}-{spec.size}-{spec.margin}{tag}.npz"
    f = cache / name if cache is not None else None
    if f is not None and f.exists():
        d = np.load(f)
        return CharArrays(d["x"], d["y"], d["source"], d["group"])
    rng = np.random.default_rng(seed)
    samples = [
        CharSample(render(ch, rng), ch, "synth", f"synth/{i}")
        for ch in tqdm(PLATE_LABELS, desc="synth", mininterval=2.0)
        for i in range(n_per_class)
    ]
    arrays = to_arrays(samples, spec, progress=False)
    if f is not None:
        f.parent.mkdir(parents=True, exist_ok=True)
        np.savez(f, x=arrays.x, y=arrays.y, source=arrays.source, group=arrays.group)
    return arrays
