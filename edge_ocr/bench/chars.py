"""`bench chars`: one model folder, every format x backend, on a labelled character set.

The characters come from the same loaders and the same held-out split (hash of the sample group)
that convert/ trains with, so "test" here is data the model never saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_ocr.bench.datasets import CharSample, load_chars, split_of
from edge_ocr.bench.metrics import LatencyStats, accuracy, agreement, confusion_matrix, per_class_accuracy
from edge_ocr.bench.timing import time_backend
from edge_ocr.errors import EdgeOcrError
from edge_ocr.models import ModelSpec
from edge_ocr.preprocess import PreprocessSpec, char_input
from edge_ocr.types import PLATE_LABELS

Progress = Callable[[Sequence[Any], str], Sequence[Any]]


@dataclass(frozen=True)
class CharSet:
    name: str
    samples: tuple[CharSample, ...]


@dataclass(frozen=True)
class CharRun:
    """One (backend, format) of the model on the whole set."""

    backend: str
    fmt: str
    file: str
    sha256: str
    truths: tuple[str, ...]
    preds: tuple[str, ...]
    confidences: tuple[float, ...]
    labels: tuple[str, ...]
    batch1: LatencyStats
    batch8: LatencyStats

    @property
    def name(self) -> str:
        return f"{self.backend}-{self.fmt}"

    @property
    def accuracy(self) -> float:
        return accuracy(self.truths, self.preds)

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.truths, self.preds, self.labels)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "format": self.fmt,
            "file": self.file,
            "sha256": self.sha256,
            "n": len(self.truths),
            "accuracy": round(self.accuracy, 5),
            "per_class_accuracy": {
                k: (None if v is None else round(v, 4))
                for k, v in per_class_accuracy(self.confusion(), self.labels).items()
            },
            "latency_ms_per_char": {"batch1": self.batch1.to_json(), "batch8": self.batch8.to_json()},
        }


def load_char_set(
    names: Sequence[str], root: Path | None, split: str, limit: int | None, seed: int = 0
) -> CharSet:
    """Plate-class samples of the named layouts in `split` ('test', 'val', 'train' or 'all')."""
    samples = [
        s for s in load_chars(names, root, PLATE_LABELS) if split == "all" or split_of(s.group) == split
    ]
    if not samples:
        raise EdgeOcrError(f"no characters in {', '.join(names)} (split {split})")
    if limit is not None and limit < len(samples):
        idx = np.sort(np.random.default_rng(seed).permutation(len(samples))[:limit])
        samples = [samples[int(i)] for i in idx]
    return CharSet(f"{'+'.join(names)}:{split}", tuple(samples))


def preprocess(samples: Sequence[CharSample], spec: PreprocessSpec, progress: Progress) -> np.ndarray:
    """Model inputs (N, size, size, 1); CharSample images are dark ink on light by convention."""
    rows = [char_input(s.image, spec, dark_on_light=True) for s in progress(samples, "preprocess")]
    return np.stack(rows)[..., None].astype(np.float32)


def run_one(
    spec: ModelSpec, x: np.ndarray, truths: Sequence[str], threads: int, warmup: int, repeat: int
) -> CharRun:
    backend = spec.open_backend(threads)
    probs = np.concatenate([backend.run(x[i : i + 8]) for i in range(0, len(x), 8)])
    top = probs.argmax(axis=1)
    preds = tuple(spec.labels[int(i)] for i in top)
    conf = tuple(float(probs[i, int(t)]) for i, t in enumerate(top))
    b1 = time_backend(backend, x, 1, warmup, repeat)
    b8 = time_backend(backend, x, 8, warmup, repeat)
    return CharRun(
        spec.backend, spec.fmt, spec.path.name, spec.sha256, tuple(truths), preds, conf, spec.labels, b1, b8
    )


def compare_formats(runs: Sequence[CharRun]) -> list[dict[str, Any]]:
    """Float vs int8 of the same backend: top-1 agreement and accuracy drop (percentage points)."""
    out = []
    by = {(r.backend, r.fmt): r for r in runs}
    for (backend, fmt), r in sorted(by.items()):
        ref = by.get((backend, "float"))
        if fmt == "int8" and ref is not None:
            out.append(
                {
                    "backend": backend,
                    "agreement": round(agreement(ref.preds, r.preds), 5),
                    "float_accuracy": round(ref.accuracy, 5),
                    "int8_accuracy": round(r.accuracy, 5),
                    "drop_pp": round(100 * (ref.accuracy - r.accuracy), 3),
                }
            )
    return out


def run_chars(
    model_dir: Path,
    charset: CharSet,
    pairs: Sequence[tuple[str, str]],
    threads: int,
    warmup: int,
    repeat: int,
    progress: Progress,
) -> list[CharRun]:
    """Every (backend, format) pair on the same preprocessed inputs (preprocessing is not timed)."""
    specs = [ModelSpec.load(model_dir, fmt, backend) for backend, fmt in pairs]
    x = preprocess(charset.samples, specs[0].preprocess, progress)
    truths = [s.label for s in charset.samples]
    return [run_one(s, x, truths, threads, warmup, repeat) for s in progress(specs, "models")]
