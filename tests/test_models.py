from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from edge_ocr.errors import ConfigError, ModelError
from edge_ocr.models import ModelSpec


@pytest.fixture()
def model_copy(plate_model_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "plate-chars"
    shutil.copytree(plate_model_dir, dst)
    return dst


def _card(d: Path) -> dict:
    return json.loads((d / "card.json").read_text())


def _write_card(d: Path, card: dict) -> None:
    (d / "card.json").write_text(json.dumps(card))


@pytest.mark.parametrize("backend", ["tflite", "onnx"])
@pytest.mark.parametrize("fmt", ["int8", "float"])
def test_shipped_model_loads(plate_model_dir: Path, backend: str, fmt: str) -> None:
    spec = ModelSpec.load(plate_model_dir, fmt, backend)
    assert spec.num_classes == len(spec.labels) == _card(plate_model_dir)["num_classes"]
    be = spec.open_backend()
    assert be.output_size == spec.num_classes


def test_corrupt_file_fails_its_checksum(model_copy: Path) -> None:
    path = model_copy / _card(model_copy)["files"]["tflite_int8"]["path"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model_int8\.tflite.*sha256"):
        ModelSpec.load(model_copy, "int8", "tflite")


def test_garbage_file_with_matching_checksum_fails_to_load(model_copy: Path) -> None:
    card = _card(model_copy)
    path = model_copy / card["files"]["onnx_int8"]["path"]
    path.write_bytes(b"not a model at all")
    card["files"]["onnx_int8"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    _write_card(model_copy, card)
    spec = ModelSpec.load(model_copy, "int8", "onnx")
    with pytest.raises(ModelError, match=r"model_int8\.onnx"):
        spec.open_backend()


def test_label_count_must_match_card(model_copy: Path) -> None:
    labels = model_copy / "labels.txt"
    labels.write_text("\n".join(labels.read_text().split()[:-1]) + "\n")
    with pytest.raises(ModelError, match=r"labels\.txt.*num_classes"):
        ModelSpec.load(model_copy)


def test_label_count_must_match_model_output(model_copy: Path) -> None:
    labels = model_copy / "labels.txt"
    labels.write_text("\n".join(labels.read_text().split()[:-1]) + "\n")
    card = _card(model_copy)
    card["num_classes"] -= 1
    _write_card(model_copy, card)
    spec = ModelSpec.load(model_copy)
    with pytest.raises(ModelError, match=r"outputs 36 scores but labels\.txt has 35"):
        spec.open_backend()


def test_duplicate_labels_are_refused(model_copy: Path) -> None:
    labels = model_copy / "labels.txt"
    names = labels.read_text().split()
    labels.write_text("\n".join([names[0], *names[:-1]]) + "\n")
    with pytest.raises(ModelError, match="duplicate"):
        ModelSpec.load(model_copy)


def test_input_shape_must_match(model_copy: Path) -> None:
    card = _card(model_copy)
    card["input"]["shape"] = [1, 28, 28, 1]
    card["input"]["preprocess"]["size"] = 28
    _write_card(model_copy, card)
    spec = ModelSpec.load(model_copy)
    with pytest.raises(ModelError, match="input"):
        spec.open_backend()


def test_missing_and_broken_card(model_copy: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        ModelSpec.load(tmp_path / "nowhere")
    (model_copy / "card.json").write_text("{ not json")
    with pytest.raises(ModelError, match=r"card\.json"):
        ModelSpec.load(model_copy)


def test_missing_file_entry_and_unknown_names(model_copy: Path) -> None:
    card = _card(model_copy)
    del card["files"]["onnx_float"]
    _write_card(model_copy, card)
    with pytest.raises(ModelError, match="onnx_float"):
        ModelSpec.load(model_copy, "float", "onnx")
    with pytest.raises(ConfigError, match="backend"):
        ModelSpec.load(model_copy, "int8", "tensorrt")
    with pytest.raises(ConfigError, match="format"):
        ModelSpec.load(model_copy, "int4", "tflite")
