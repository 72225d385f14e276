"""The synthetic renderer: seeded determinism, exact character boxes, scene ground truth, fonts."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr import synth
from edge_ocr.errors import EdgeOcrError
from edge_ocr.synth.fonts import load_font

STYLES = ["us", "eu", "br", "two-row"]


def test_committed_fonts_load_and_carry_licences() -> None:
    fonts = synth.committed_fonts()
    assert len(fonts) >= 2
    for f in fonts:
        font = load_font(str(f), 40)
        x0, y0, x1, y1 = font.getbbox("A8")
        assert x1 > x0 and y1 > y0, f
    licences = list(fonts[0].parent.glob("LICENSE-*"))
    assert len(licences) >= 2
    assert sum(f.stat().st_size for f in fonts) < 1.5e6


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("augmented", [False, True])
def test_plate_is_deterministic_for_a_seed(style: str, augmented: bool) -> None:
    a = synth.render_plate("ABC1234", np.random.default_rng(5), style=style, augmented=augmented)
    b = synth.render_plate("ABC1234", np.random.default_rng(5), style=style, augmented=augmented)
    c = synth.render_plate("ABC1234", np.random.default_rng(6), style=style, augmented=augmented)
    assert np.array_equal(a.image, b.image) and a.char_boxes == b.char_boxes
    assert not np.array_equal(a.image, c.image) or a.image.shape != c.image.shape
    assert a.image.dtype == np.uint8 and a.image.ndim == 3 and a.image.shape[2] == 3


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("augmented", [False, True])
def test_char_boxes_inside_ordered_and_on_ink(style: str, augmented: bool) -> None:
    rng = np.random.default_rng(11)
    for _ in range(5):
        text = synth.random_plate_text(style, rng)
        p = synth.render_plate(text, rng, style=style, augmented=augmented, margin=0.1 if augmented else 0)
        assert p.text == synth.plate_chars(text)
        assert len(p.char_boxes) == len(p.text) == len(p.rows)
        h, w = p.image.shape[:2]
        for b in p.char_boxes:
            assert b.w > 2 and b.h > 5
            assert b.x >= 0 and b.x2 <= w and b.y >= 0 and b.y2 <= h
        assert list(p.rows) == sorted(p.rows)
        for r in set(p.rows):
            xs = [b.x for b, rr in zip(p.char_boxes, p.rows, strict=True) if rr == r]
            assert xs == sorted(xs)
        if style == "two-row":
            assert set(p.rows) == {0, 1}
            top = [b for b, r in zip(p.char_boxes, p.rows, strict=True) if r == 0]
            bottom = [b for b, r in zip(p.char_boxes, p.rows, strict=True) if r == 1]
            assert max(b.y2 for b in top) <= min(b.y for b in bottom)


def test_clean_boxes_are_tight_around_the_ink() -> None:
    """On a clean dark-on-light plate, each box holds dark pixels at its edges and in its middle."""
    p = synth.render_plate("HXE7", np.random.default_rng(2), style="eu", dark_on_light=True)
    grey = cv2.cvtColor(p.image, cv2.COLOR_BGR2GRAY).astype(int)
    bg = int(np.median(grey))
    for b in p.char_boxes:
        patch = grey[b.y : b.y2, b.x : b.x2]
        dark = patch < bg - 60
        assert dark[0].any() and dark[-1].any() and dark[:, 0].any() and dark[:, -1].any()
        outside = grey[b.y : b.y2, b.x2 + 1 : b.x2 + 2]
        assert outside.size == 0 or (outside < bg - 150).mean() < 0.8


def test_separators_are_drawn_but_not_characters() -> None:
    p = synth.render_plate("AB-12 C", np.random.default_rng(0), style="eu")
    assert p.text == "AB12C" and len(p.char_boxes) == 5


def test_light_on_dark_plate() -> None:
    p = synth.render_plate("XYZ123", np.random.default_rng(0), dark_on_light=False)
    grey = cv2.cvtColor(p.image, cv2.COLOR_BGR2GRAY)
    b = p.char_boxes[0]
    assert not p.dark_on_light
    assert grey[b.y : b.y2, b.x : b.x2].max() > np.median(grey) + 80


def test_unknown_style_is_an_error() -> None:
    with pytest.raises(EdgeOcrError, match="style"):
        synth.render_plate("ABC", np.random.default_rng(0), style="mars")


def test_render_char_shape_polarity_and_seed() -> None:
    a = synth.render_char("A", np.random.default_rng(3))
    b = synth.render_char("A", np.random.default_rng(3))
    assert a.shape == (48, 32) and a.dtype == np.uint8 and np.array_equal(a, b)
    tile = synth.render_char("8", np.random.default_rng(4), size_hw=(40, 24))
    assert tile.shape == (40, 24)
    centre = tile[10:30, 6:18].astype(int)
    border = np.concatenate([tile[0], tile[-1]]).astype(int)
    assert centre.min() < np.median(border) - 30  # dark ink on a lighter ground


@pytest.mark.parametrize("n", [1, 3])
def test_scene_boxes_contain_plate_and_chars(n: int) -> None:
    rng = np.random.default_rng(9)
    texts = [synth.random_plate_text("us", rng) for _ in range(n)]
    s = synth.render_scene(texts, rng, size=(1280, 720), style="us")
    assert s.image.shape == (720, 1280, 3)
    assert [p.text for p in s.plates] == [synth.plate_chars(t) for t in texts]
    for p in s.plates:
        xs, ys = [c[0] for c in p.corners], [c[1] for c in p.corners]
        assert p.box.x <= min(xs) + 1 and p.box.x2 >= max(xs) - 1
        assert p.box.y <= min(ys) + 1 and p.box.y2 >= max(ys) - 1
        assert 40 <= p.box.w <= 1280 and p.box.x2 <= 1280 and p.box.y2 <= 720
        assert len(p.char_boxes) == len(p.text)
        for c in p.char_boxes:
            assert c.iou(p.box) > 0 and c.x >= p.box.x - 1 and c.x2 <= p.box.x2 + 1
    boxes = [p.box for p in s.plates]
    assert all(a.iou(b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_scene_on_a_given_background() -> None:
    bg = np.full((100, 200, 3), 77, np.uint8)
    s = synth.render_scene(
        ["AB123"], np.random.default_rng(1), size=(640, 360), background=bg, augmented=False
    )
    assert s.image.shape == (360, 640, 3)
    assert s.image[0, 0].tolist() == [77, 77, 77]


def test_write_samples_layouts(tmp_path: Path) -> None:
    made = synth.write_samples(tmp_path, n=3, seed=1, styles=("us", "eu"))
    assert len(made.scenes) == 3 and len(made.crops) == 3
    for scene in made.scenes:
        img = cv2.imread(str(scene))
        assert img is not None and img.shape == (720, 1280, 3)
        fields = scene.with_suffix(".txt").read_text().strip().split("\t")
        assert fields[0] == scene.name and len(fields) == 6 and fields[5].isalnum()
    rows = (tmp_path / "crops" / "groundtruth.csv").read_text().strip().splitlines()
    assert rows[0] == "file,state,plate" and len(rows) == 4
    again = tmp_path / "again"
    synth.write_samples(again, n=1, seed=1, styles=("us",))
    a = cv2.imread(str(made.scenes[0]))
    b = cv2.imread(str(again / "sample_000.jpg"))
    assert a is not None and b is not None and np.array_equal(a, b)
