"""62-class reader: documented splits, data preparation, the shipped model folder and its accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert.chars62.data import good_split, hnd_split, ink_box_crop, training_fonts62
from edge_ocr.bench.datasets import CharSample
from edge_ocr.paths import default_model_dir
from edge_ocr.types import CHARS62

MODEL = default_model_dir("chars62")


def _samples(counts: dict[str, int]) -> list[CharSample]:
    img = np.zeros((4, 4), np.uint8)
    return [CharSample(img, ch, "t", f"g/{ch}{i}") for ch, n in counts.items() for i in range(n)]


def test_good_split_is_stratified_and_seeded() -> None:
    samples = _samples({"a": 100, "B": 40, "7": 20})
    split = good_split(samples)
    labels = np.array([s.label for s in samples])
    for ch, n in (("a", 100), ("B", 40), ("7", 20)):
        m = labels == ch
        assert (split[m] == "test").sum() == round(0.15 * n)
        assert (split[m] == "val").sum() == round(0.10 * n)
    assert np.array_equal(split, good_split(samples))
    assert not np.array_equal(split, good_split(samples, seed=1))


def test_hnd_split_keeps_writers_apart() -> None:
    samples = [CharSample(np.zeros((2, 2), np.uint8), "a", "hnd", f"hnd/writer{i}") for i in range(55)]
    split = hnd_split(samples)
    assert list(split[:42]) == ["train"] * 42
    assert list(split[42:47]) == ["val"] * 5
    assert list(split[47:]) == ["test"] * 8


def test_ink_box_crop_pads_the_glyph_box() -> None:
    img = np.full((60, 60), 255, np.uint8)
    img[10:35, 20:30] = 0
    crop = ink_box_crop(img)
    assert crop.shape == (25 + 2 * 2, 10 + 2 * 2)  # pad = 8 % of the 25 px height = 2 px


def test_training_fonts_leave_out_the_committed_ones() -> None:
    from edge_ocr.synth import committed_fonts

    names = {p.name for p in training_fonts62(exclude=committed_fonts())}
    assert not names & {p.name for p in committed_fonts()}


def test_model_folder_follows_the_contract() -> None:
    from edge_ocr.models import ModelSpec

    for backend in ("tflite", "onnx"):
        for fmt in ("int8", "float"):
            spec = ModelSpec.load(MODEL, fmt, backend)
            assert "".join(spec.labels) == CHARS62
            be = spec.open_backend()
            out = be.run(np.zeros((2, *spec.input_shape[1:]), np.float32))
            assert out.shape == (2, 62) and np.allclose(out.sum(1), 1.0, atol=0.05)  # int8 steps of 1/256
    card = json.loads((MODEL / "card.json").read_text())
    assert card["metrics"]["split"].startswith("GoodImg: stratified per class, seed 0")
    assert card["training"]["params"] <= 300_000


def _heldout(shared_data: Path, source: str) -> tuple[np.ndarray, np.ndarray]:
    from convert.chars62.data import boxed
    from edge_ocr.bench.datasets import load_chars74k_good, load_chars74k_hnd
    from edge_ocr.models import ModelSpec
    from edge_ocr.preprocess import batch_inputs

    spec = ModelSpec.load(MODEL, "int8", "tflite")
    if source == "chars74k-good":
        s = load_chars74k_good(shared_data)
        s = [x for x, part in zip(s, good_split(s), strict=True) if part == "test"]
    else:
        s = boxed(load_chars74k_hnd(shared_data))
        s = [x for x, part in zip(s, hnd_split(s), strict=True) if part == "test"]
    x = batch_inputs([c.image for c in s], spec.preprocess, dark_on_light=True)
    pred = spec.open_backend().run(x).argmax(1)
    return pred, np.array([CHARS62.index(c.label) for c in s])


@pytest.mark.parametrize("source", ["chars74k-good", "chars74k-hnd"])
def test_heldout_accuracy_reproduces_the_card(shared_data: Path, source: str) -> None:
    """The int8 figure in card.json is what the shipped file scores on the documented split."""
    pred, y = _heldout(shared_data, source)
    card = json.loads((MODEL / "card.json").read_text())
    want = card["metrics"]["heldout"]["tflite_int8"][source]
    assert len(y) == want["n"]
    acc = float((pred == y).mean())
    print(f"{source}: int8 accuracy {acc:.4f} on {len(y)}")
    assert acc == pytest.approx(want["accuracy"], abs=0.005)
    assert acc > 0.5


def test_cached_arrays_match_the_shared_preprocessing() -> None:
    """Training inputs for a GoodImg crop are exactly what the reader computes for it."""
    from edge_ocr.preprocess import PreprocessSpec, char_input

    img = np.full((64, 64), 230, np.uint8)
    cv2.putText(img, "g", (14, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 20, 3)
    spec = PreprocessSpec(size=32, tighten=False)
    a = char_input(img, spec, dark_on_light=True)
    assert a.shape == (32, 32) and a.max() == pytest.approx(1.0) and a[0, 0] == 0.0


def test_scene_tiles_are_seeded_square_and_textured(shared_data: Path) -> None:
    from convert.chars62.scene import load_textures, scene_char

    fonts = training_fonts62()[:3]
    tex = load_textures(shared_data, max_side=96)[:5]
    a = scene_char("W", np.random.default_rng(3), fonts, tex)
    b = scene_char("W", np.random.default_rng(3), fonts, tex)
    assert a.shape == (64, 64) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert a.std() > 10  # ink differs from its background


def test_prior_adjustment_moves_the_decision_towards_the_target_prior() -> None:
    from convert.chars62.train import adjust_prior, training_prior
    from convert.plate_chars.train import setup_tf

    keras = setup_tf(0, 1)
    inp = keras.Input((2,))
    out = keras.layers.Softmax()(keras.layers.Dense(2, name="logits")(inp))
    model = keras.Model(inp, out)
    model.get_layer("logits").set_weights([np.zeros((2, 2), np.float32), np.zeros(2, np.float32)])
    trained = training_prior(np.array([0, 1, 1, 1]), 2, weighted=False)  # 1:3 in training
    assert np.allclose(trained, [0.25, 0.75], atol=1e-3)
    delta = adjust_prior(model, trained, np.array([0.75, 0.25]))  # 3:1 where it is used
    assert delta[0] > 0 > delta[1]
    p = np.asarray(model(np.zeros((1, 2), np.float32)))[0]
    assert np.allclose(p, [0.9, 0.1], atol=1e-3)  # 0.5 x (0.75/0.25) : 0.5 x (0.25/0.75)


def test_ensemble_targets_are_a_softened_geometric_mean() -> None:
    from convert.chars62.train import ensemble_targets

    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    b = np.array([[0.5, 0.4, 0.1], [0.2, 0.2, 0.6]], np.float32)
    t1 = ensemble_targets([a, b], 1.0)
    assert np.allclose(t1.sum(axis=1), 1.0, atol=1e-6)
    g = np.sqrt(a * b)
    assert np.allclose(t1, g / g.sum(axis=1, keepdims=True), atol=1e-6)
    t3 = ensemble_targets([a, b], 3.0)  # a higher temperature flattens, keeping the order
    assert (t3.max(axis=1) < t1.max(axis=1)).all()
    assert (t3.argmax(axis=1) == t1.argmax(axis=1)).all()
