"""Loaders over every data layout, on tiny files written here (and on the real data when present)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.bench import datasets as D
from edge_ocr.bench import plate_sets as P
from edge_ocr.errors import SourceError


def _glyph(ch: str, h: int = 40, w: int = 28, dark_on_light: bool = True) -> np.ndarray:
    img = np.full((h, w), 255, np.uint8)
    cv2.putText(img, ch, (3, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 3)
    return img if dark_on_light else 255 - img


def _ink_center(img: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(img < 128)
    return float(xs.mean()), float(ys.mean())


def test_box_page_y_from_bottom_lands_on_glyph(tmp_path: Path) -> None:
    page = np.full((300, 200), 255, np.uint8)
    page[40:80, 120:140] = 0  # a glyph near the TOP of the page: rows 40..80
    cv2.imwrite(str(tmp_path / "p.tif"), page)
    # Tesseract counts y from the bottom: rows 40..80 of a 300-row page are y 220..260.
    (tmp_path / "p.box").write_text("X 120 220 140 260 0\nY 10 10 20 20 0\n")
    samples = D.load_box_page(tmp_path / "p.tif", tmp_path / "p.box", "test")
    x = samples[0]
    assert x.label == "X"
    assert (x.image < 128).mean() > 0.6  # the crop is mostly the black glyph, pad around it
    assert x.image.shape[0] >= 40 and x.image.shape[0] <= 50
    assert (samples[1].image < 128).sum() == 0  # the other box is on empty paper
    assert samples[0].group != samples[1].group  # x restarting -> a new line


def test_box_lines_bad_line_names_it() -> None:
    with pytest.raises(SourceError, match="line 2"):
        D.parse_box_lines("A 1 2 3 4 0\nB 1 2\n")


def test_plate_tiles_labels_from_folder_and_polarity(tmp_path: Path) -> None:
    for label, inv in (("A", False), ("7", True)):
        d = tmp_path / "chars" / "plate-tiles" / "xx" / label
        d.mkdir(parents=True)
        cv2.imwrite(str(d / "t1.jpg"), _glyph(label, dark_on_light=not inv))
        (d / "._t1.jpg").write_bytes(b"\x00junk")  # macOS resource forks are skipped
    samples = D.load_plate_tiles(tmp_path)
    assert sorted(s.label for s in samples) == ["7", "A"]
    for s in samples:
        assert s.source == "plate-tiles-xx"
        assert np.median(s.image) > 128  # light background after normalisation


def _write_vn(tmp_path: Path) -> Path:
    base = tmp_path / "plates" / "vn-char-boxes"
    (base / "images").mkdir(parents=True)
    (base / "labels").mkdir()
    img = np.full((50, 100), 230, np.uint8)
    img[10:40, 10:25] = 20  # '5' box
    img[10:40, 60:75] = 20  # 'B' box
    cv2.imwrite(str(base / "images" / "a1.jpg"), img)
    cv2.imwrite(str(base / "images" / "a2.jpg"), img)
    lines = ["5 0.175 0.5 0.15 0.6", "36 0.4 0.5 0.1 0.1", "11 0.675 0.5 0.15 0.6", "3 0.5 0.5 0.9 0.6"]
    for n in ("a1", "a2"):
        (base / "labels" / f"{n}.txt").write_text("\n".join(lines) + "\n")
    (base / "labels" / "ocr_result.txt").write_text("a1.jpg -> 5-B\na2.jpg -> 5-B\n")
    return base


def test_vn_char_boxes_crop_drop_and_group(tmp_path: Path) -> None:
    _write_vn(tmp_path)
    samples = D.load_vn_char_boxes(tmp_path)
    # '-' (36) dropped; the 0.9-wide box (two glyphs) dropped as a labelling slip
    assert [s.label for s in samples] == ["5", "B", "5", "B"]
    for s in samples:
        assert (s.image < 128).mean() > 0.5
        cx, cy = _ink_center(s.image)
        assert abs(cx - s.image.shape[1] / 2) < 3 and abs(cy - s.image.shape[0] / 2) < 3
    assert {s.group for s in samples} == {"vn/5B"}  # two photos of one plate share a group


def test_yolo_to_xyxy() -> None:
    assert D.yolo_to_xyxy("3 0.5 0.5 0.2 0.4", 100, 50) == (3, 40, 15, 60, 35)


def test_in_plate_chars_and_chars74k(tmp_path: Path) -> None:
    d = tmp_path / "chars" / "in-plate-chars" / "train" / "class_K"
    d.mkdir(parents=True)
    (tmp_path / "chars" / "in-plate-chars" / "val").mkdir()
    cv2.imwrite(str(d / "class_K_1.jpg"), _glyph("K", 28, 28, dark_on_light=False))
    s = D.load_in_plate_chars(tmp_path)
    assert [x.label for x in s] == ["K"] and np.median(s[0].image) > 128

    g = tmp_path / "chars74k" / "img-good" / "Sample011"  # 11 -> index 10 -> 'A'
    g.mkdir(parents=True)
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[20:40, 20:40] = (10, 10, 10, 255)  # opaque dark square on transparent background
    cv2.imwrite(str(g / "img011-00001.png"), rgba)
    good = D.load_chars74k_good(tmp_path)
    assert good[0].label == "A" and good[0].image[0, 0] == 255 and good[0].image[30, 30] < 30

    images = np.stack([_glyph(c, 28, 28, dark_on_light=False) for c in "AAB"])
    np.savez(tmp_path / "chars74k" / "fnt-28x28.npz", images=images, labels=np.array(list("AAB")))
    fnt = D.load_chars74k_fnt(tmp_path)
    assert [x.group for x in fnt] == ["fnt/font0", "fnt/font1", "fnt/font0"]

    (tmp_path / "chars74k" / "hnd").mkdir()
    strokes = {"L": [[[[0, 0], [0, 100], [60, 100]]], [[[5, 5], [5, 90]]]]}
    (tmp_path / "chars74k" / "hnd" / "char74k.json").write_text(json.dumps(strokes))
    hnd = D.load_chars74k_hnd(tmp_path)
    assert [x.group for x in hnd] == ["hnd/writer0", "hnd/writer1"]
    assert (hnd[0].image < 128).sum() > 50 and hnd[0].image.shape == (64, 64)


def test_load_chars_filters_labels_and_rejects_unknown(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown character dataset"):
        D.load_chars(["nope"], tmp_path)
    with pytest.raises(SourceError, match="not found"):
        D.load_chars(["plate-box-pages"], tmp_path)


def test_plate_level_layouts(tmp_path: Path) -> None:
    (tmp_path / "groundtruth.csv").write_text("ak1.png,ak,FUW999\nal2.png,al,6a5730a\n")
    seg = P.load_seg_and_ocr(tmp_path)
    assert [(p.path.name, p.plate) for p in seg] == [("ak1.png", "FUW999"), ("al2.png", "6A5730A")]

    crops = tmp_path / "crops"
    crops.mkdir()
    for n in ("ABC1234_1.jpg", "ABC1234_2.jpg", "XYZ9876_1.png"):
        (crops / n).write_bytes(b"")
    named = P.load_name_crops(crops)
    assert [p.plate for p in named] == ["ABC1234", "ABC1234", "XYZ9876"]
    assert named[0].group == named[1].group != named[2].group

    e2e = tmp_path / "e2e"
    e2e.mkdir()
    (e2e / "car.txt").write_text("car.jpg\t935\t362\t99\t49\tYG9X2G\n")
    (one,) = P.load_endtoend(e2e)
    assert one.plate == "YG9X2G" and one.box is not None and one.box.as_list() == [935, 362, 99, 49]
    assert one.path == e2e / "car.jpg"


def test_split_is_deterministic_and_proportional() -> None:
    groups = [f"g{i}" for i in range(5000)]
    a = [D.split_of(g) for g in groups]
    assert a == [D.split_of(g) for g in groups]
    c = Counter(a)
    assert 0.07 < c["test"] / 5000 < 0.13 and 0.07 < c["val"] / 5000 < 0.13


@pytest.mark.data
def test_real_box_pages_crops_hold_ink(shared_data: Path) -> None:
    samples = D.load_box_pages(shared_data)
    assert len(samples) > 10000
    assert set(s.label for s in samples) == set(D.PLATE_LABELS)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(samples), 200, replace=False):
        img = samples[i].image
        h, w = img.shape
        centre = img[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
        border = np.concatenate([img[0], img[-1]])
        assert centre.min() < 128 and np.median(border) > 128, samples[i].group


@pytest.mark.data
def test_real_plate_sources_load(shared_data: Path) -> None:
    tiles = D.load_plate_tiles(shared_data)
    assert len(tiles) > 5000 and {s.source for s in tiles} == {"plate-tiles-br", "plate-tiles-gb"}
    seg = P.load_seg_and_ocr(shared_data / "bench" / "seg-and-ocr-us")
    assert len(seg) > 300 and all(p.path.exists() for p in seg)
    e2e = P.load_endtoend(shared_data / "bench" / "endtoend-us")
    assert len(e2e) > 200 and all(p.box is not None and p.box.w > 0 for p in e2e)
