"""convert/ end to end on a tiny rendered dataset: train -> quantize -> verify -> card, and a broken int8 model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tf2onnx")

LABELS = "0147AHLX"
FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
)


def _render(ch: str, font: int, thick: int, dx: int) -> np.ndarray:
    img = np.full((44, 30), 255, np.uint8)
    cv2.putText(img, ch, (4 + dx, 36), font, 1.1, 0, thick, cv2.LINE_AA)
    return img


def _tiny_data(root: Path) -> None:
    """Plate-tile layout: a few fonts x stroke widths x shifts per label, distinct enough to group apart."""
    for ch in LABELS:
        d = root / "chars" / "plate-tiles" / "zz" / ch
        d.mkdir(parents=True)
        n = 0
        for font in FONTS:
            for thick in (1, 2, 3):
                for dx in (-2, 0, 2):
                    cv2.imwrite(str(d / f"{n}.png"), _render(ch, font, thick, dx))
                    n += 1


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from convert.__main__ import main

    base = tmp_path_factory.mktemp("convert")
    _tiny_data(base / "data")
    out, work = base / "model", base / "work"
    rc = main(
        [
            "all",
            "--data",
            str(base / "data"),
            "--out",
            str(out),
            "--work",
            str(work),
            "--quick",
            "--sources",
            "plate-tiles",
            "--threads",
            "1",
            "--epochs",
            "6",
        ]
    )
    assert rc == 0
    return out, work


def test_quick_all_writes_the_model_folder(quick_run: tuple[Path, Path]) -> None:
    from convert.card import sha256

    out, _ = quick_run
    card = json.loads((out / "card.json").read_text())
    labels = (out / "labels.txt").read_text().split()
    assert labels == list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") and card["num_classes"] == 36
    assert card["input"]["shape"] == [1, 32, 32, 1] and card["input"]["preprocess"]["size"] == 32
    for entry in card["files"].values():
        f = out / entry["path"]
        assert f.stat().st_size == entry["bytes"] and sha256(f) == entry["sha256"]
    q = card["quantization"]["tflite_int8"]
    assert q["output_scale"] == pytest.approx(1 / 256) and q["output_zero_point"] == -128
    held = card["metrics"]["heldout"]
    assert set(held) == {"tflite_int8", "tflite_float", "onnx_int8", "onnx_float"}
    assert held["tflite_float"]["n"] > 0
    assert held["tflite_float"]["accuracy"] > 0.5  # 8 clean classes: far above chance (1/8)
    assert "plate-tiles-zz" in (out / "MODEL_CARD.md").read_text()


def test_verify_fails_loudly_on_a_broken_int8_model(quick_run: tuple[Path, Path], tmp_path: Path) -> None:
    from convert.__main__ import main
    from convert.plate_chars.train import build_model, setup_tf
    from convert.quantize import export_tflite
    from convert.verify import ParityError, verify

    out, work = quick_run
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    setup_tf(seed=123, threads=1)
    untrained = build_model(36, width=8)  # same interface, random weights: what a botched export looks like
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    export_tflite(untrained, np.random.default_rng(0).random((16, 32, 32, 1), np.float32), scratch)
    shutil.copy(scratch / "model_int8.tflite", broken / "model_int8.tflite")

    from convert.plate_chars.data import CharArrays, load_plate_arrays
    from edge_ocr.preprocess import PreprocessSpec

    data = load_plate_arrays(out.parent / "data", PreprocessSpec(), ["plate-tiles"], cache=work / "cache")
    held = CharArrays.concat([data])
    with pytest.raises(ParityError, match="tflite int8"):
        verify(broken, held)
    rc = main(
        [
            "verify",
            "--data",
            str(out.parent / "data"),
            "--out",
            str(broken),
            "--work",
            str(work),
            "--quick",
            "--sources",
            "plate-tiles",
            "--threads",
            "1",
        ]
    )
    assert rc == 1


def test_clean_list_round_trip(tmp_path: Path) -> None:
    from convert.plate_chars.clean import write_list
    from convert.plate_chars.data import vn_excluded

    f = tmp_path / "list.txt"
    bad = write_list({"img_a": 0.9, "img_b": 0.1, "img_c": 0.34}, f, threshold=0.34)
    assert bad == ["img_a", "img_c"]
    assert vn_excluded(f) == ["img_a", "img_c"]  # the comment header is not an image name
    assert vn_excluded(tmp_path / "missing.txt") == []
