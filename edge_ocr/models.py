"""Load a model folder (card.json + labels.txt + model files) and refuse anything inconsistent.

A wrong label file or a half-copied model would silently produce wrong plates; checking the card's
sha256, the label count and the input shape up front turns that into a clear error naming the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_ocr.backends import FORMATS, file_key, make_backend
from edge_ocr.backends.base import InferenceBackend
from edge_ocr.errors import ModelError
from edge_ocr.preprocess import PreprocessSpec


@dataclass(frozen=True)
class ModelSpec:
    """What the pipeline needs to know about one model file of a folder."""

    directory: Path
    name: str
    version: int
    labels: tuple[str, ...]
    input_shape: tuple[int, int, int, int]
    preprocess: PreprocessSpec
    backend: str
    fmt: str
    path: Path
    sha256: str
    card: dict[str, Any]

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @classmethod
    def load(cls, directory: str | Path, fmt: str = "int8", backend: str = "tflite") -> ModelSpec:
        """Read and verify `directory`; raises ModelError naming the file at fault."""
        d = Path(directory)
        if not d.is_dir():
            raise ModelError(f"{d}: model folder not found")
        card = _read_card(d / "card.json")
        labels = _read_labels(d / str(card.get("labels_file", "labels.txt")))
        num = _require(card, "num_classes", d / "card.json")
        if len(labels) != num:
            raise ModelError(
                f"{d / str(card.get('labels_file', 'labels.txt'))}: {len(labels)} labels but card.json "
                f"says num_classes={num}"
            )
        shape, pre = _read_input(card, d / "card.json")
        key = file_key(backend, fmt)
        path, sha = _verify_file(card, key, d)
        return cls(
            d,
            str(card.get("name", d.name)),
            int(card.get("version", 0)),
            labels,
            shape,
            pre,
            backend,
            fmt,
            path,
            sha,
            card,
        )

    def open_backend(self, threads: int = 1) -> InferenceBackend:
        """Instantiate the runtime and check the file agrees with the card (input and output sizes)."""
        be = make_backend(self.backend, self.path, threads)
        if be.output_size != self.num_classes:
            raise ModelError(
                f"{self.path}: model outputs {be.output_size} scores but labels.txt has "
                f"{self.num_classes} labels"
            )
        if tuple(be.input_hwc) != self.input_shape[1:]:
            raise ModelError(
                f"{self.path}: model input {be.input_hwc} differs from card.json input "
                f"shape {list(self.input_shape)}"
            )
        return be


def _require(card: dict[str, Any], key: str, path: Path) -> Any:
    if key not in card:
        raise ModelError(f"{path}: missing key {key!r}")
    return card[key]


def _read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelError(f"{path}: not found") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path}: unreadable model card: {e}") from e
    if not isinstance(card, dict):
        raise ModelError(f"{path}: model card is not a JSON object")
    return card


def _read_labels(path: Path) -> tuple[str, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as e:
        raise ModelError(f"{path}: not found") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"{path}: unreadable label file: {e}") from e
    labels = tuple(line.strip() for line in lines if line.strip())
    if len(set(labels)) != len(labels):
        raise ModelError(f"{path}: duplicate labels")
    if any(len(label) != 1 for label in labels):
        raise ModelError(f"{path}: every label must be one character")
    return labels


def _read_input(card: dict[str, Any], path: Path) -> tuple[tuple[int, int, int, int], PreprocessSpec]:
    inp = _require(card, "input", path)
    try:
        shape = tuple(int(v) for v in inp["shape"])
        pre = PreprocessSpec.from_json(inp.get("preprocess", {}))
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{path}: bad 'input' entry: {e}") from e
    if len(shape) != 4 or inp.get("layout", "NHWC") != "NHWC":
        raise ModelError(f"{path}: input must be NHWC with 4 dimensions, got {list(shape)}")
    if shape[1] != pre.size or shape[2] != pre.size or shape[3] != 1:
        raise ModelError(f"{path}: input shape {list(shape)} disagrees with preprocess size {pre.size}")
    return (shape[0], shape[1], shape[2], shape[3]), pre


def _verify_file(card: dict[str, Any], key: str, d: Path) -> tuple[Path, str]:
    files = _require(card, "files", d / "card.json")
    entry = files.get(key) if isinstance(files, dict) else None
    if not entry or "path" not in entry:
        have = ", ".join(files) if isinstance(files, dict) else "none"
        raise ModelError(f"{d / 'card.json'}: no file for {key!r} (has: {have}); formats: {FORMATS}")
    path = d / str(entry["path"])
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise ModelError(f"{path}: model file not found") from e
    except OSError as e:
        raise ModelError(f"{path}: unreadable model file: {e}") from e
    sha = hashlib.sha256(data).hexdigest()
    want = str(entry.get("sha256", ""))
    if sha != want:
        raise ModelError(
            f"{path}: sha256 {sha[:12]}… does not match card.json ({want[:12] or 'none'}…); "
            "the file is corrupt or the card is stale"
        )
    return path, sha
