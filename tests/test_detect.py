from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_ocr.errors import ConfigError
from edge_ocr.reader.detect import PlateDetector, make_detector
from edge_ocr.reader.detect.geometry import CROP_HEIGHT
from edge_ocr.reader.detect.lines import CharLineDetector
from edge_ocr.types import Box, PlateRegion


def _putText_scene(text: str = "ABC 1234", seed: int = 0) -> tuple[np.ndarray, Box]:
    """A textured 1280x720 frame with one white plate whose text is half its height, as on US
    plates; returns the image and the plate box."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(60, 140, (720, 1280), dtype=np.uint8), (0, 0), 6)
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    cv2.rectangle(img, (300, 380), (900, 600), (40, 40, 120), -1)  # a "car" body
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 1.4, 3
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    h, w = 2 * th, tw + th
    x, y = 420, 440
    cv2.rectangle(img, (x, y), (x + w, y + h), (235, 235, 235), -1)
    cv2.putText(img, text, (x + th // 2, y + th + th // 2), font, scale, (20, 20, 20), thick, cv2.LINE_AA)
    return img, Box(x, y, w, h)


def _hit_rank(regions: list[PlateRegion], box: Box, iou: float = 0.3) -> int | None:
    return next((i for i, r in enumerate(regions) if r.box.iou(box) >= iou), None)


def test_registry_and_protocol() -> None:
    from edge_ocr.paths import default_detector_dir
    from edge_ocr.reader.detect.refine import CnnLineDetector

    installed = (default_detector_dir() / "card.json").is_file()
    assert isinstance(make_detector(), CnnLineDetector if installed else CharLineDetector)  # auto
    det = make_detector("lines")
    assert isinstance(det, CharLineDetector)
    assert isinstance(make_detector("charline"), CharLineDetector)
    with pytest.raises(ConfigError, match="nope"):
        make_detector("nope")
    _typed: PlateDetector = det  # structural typing: checked by mypy


@pytest.mark.parametrize("grey", [False, True])
def test_finds_puttext_plate(grey: bool) -> None:
    img, box = _putText_scene()
    if grey:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    regions = make_detector("lines").detect(img)
    rank = _hit_rank(regions, box)
    assert rank is not None and rank < 3, [r.box for r in regions]
    r = regions[rank]
    assert r.crop.ndim == 2 and r.crop.shape[0] == CROP_HEIGHT and r.crop.dtype == np.uint8
    assert 2.0 < r.crop.shape[1] / r.crop.shape[0] < 6.0  # plate-shaped, aspect kept
    assert 6 <= len(r.char_boxes) <= 8  # "ABC 1234": seven glyphs, give or take one
    assert all(cb.dark_on_light for cb in r.char_boxes)
    for cb in r.char_boxes:
        assert cb.box.x >= 0 and cb.box.x2 <= r.crop.shape[1] and cb.box.y2 <= CROP_HEIGHT
    assert r.box.iou(box) >= 0.5  # the plate outline, not only the text


def test_light_on_dark_plate_and_rotation() -> None:
    img, box = _putText_scene("KX 5093")
    img = 255 - img  # light text on a dark plate
    m = cv2.getRotationMatrix2D((530.0, 480.0), 6.0, 1.0)  # counter-clockwise
    img = cv2.warpAffine(img, m, (1280, 720), borderMode=cv2.BORDER_REFLECT)
    regions = make_detector("lines").detect(img)
    rank = _hit_rank(regions, box)
    assert rank is not None and rank < 3
    assert not regions[rank].char_boxes[0].dark_on_light
    (x0, y0), (x1, y1) = regions[rank].corners[:2]
    assert -10.0 < np.degrees(np.arctan2(y1 - y0, x1 - x0)) < -2.0  # corners follow the text's slope


def test_synth_scenes() -> None:
    synth = pytest.importorskip("edge_ocr.synth.scene")
    det = make_detector("lines")
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(6):
        scene = synth.random_scene(rng, style="us")
        regions = det.detect(scene.image)
        rank = _hit_rank(regions, scene.plates[0].box)
        hits += rank is not None and rank < 8
    assert hits >= 5


@pytest.mark.parametrize(
    "img",
    [
        np.full((720, 1280), 128, np.uint8),
        np.zeros((480, 640, 3), np.uint8),
    ],
    ids=["flat-grey", "black-bgr"],
)
def test_flat_images_give_nothing(img: np.ndarray) -> None:
    assert make_detector("lines").detect(img) == []


def test_noise_ranks_below_a_plate() -> None:
    """Full-range pixel noise is full of glyph-sized blobs; none may look as plate-like as a plate."""
    det = make_detector("lines")
    img, box = _putText_scene()
    plate = det.detect(img)[_hit_rank(det.detect(img), box) or 0]
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (720, 1280), dtype=np.uint8)
    for img in (noise, cv2.GaussianBlur(noise, (0, 0), 2)):
        scores = [r.score for r in det.detect(img)]
        assert all(s < 0.5 * plate.score for s in scores), (plate.score, scores)


@pytest.mark.parametrize("shape", [(1, 1), (5, 300), (17, 17, 3), (2, 2, 3)])
def test_tiny_images(shape: tuple[int, ...]) -> None:
    assert make_detector("lines").detect(np.full(shape, 200, np.uint8)) == []


def test_huge_image_is_bounded_and_found() -> None:
    img, box = _putText_scene()
    big = cv2.resize(img, (3840, 2160), interpolation=cv2.INTER_LINEAR)
    regions = make_detector("lines").detect(big)
    scaled = Box(box.x * 3, box.y * 3, box.w * 3, box.h * 3)
    rank = _hit_rank(regions, scaled)
    assert rank is not None and rank < 3
    assert all(r.box.x >= 0 and r.box.x2 <= 3840 and r.box.y2 <= 2160 for r in regions)


def test_other_dtypes_are_accepted() -> None:
    img, box = _putText_scene()
    grey16 = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    regions = make_detector("lines").detect(grey16)
    assert _hit_rank(regions, box) is not None


def test_sorted_by_score_and_capped() -> None:
    img, _ = _putText_scene()
    regions = make_detector("lines").detect(img)
    scores = [r.score for r in regions]
    assert scores == sorted(scores, reverse=True)
    assert len(regions) <= CharLineDetector().config.max_proposals


def test_widened_region_keeps_its_row_and_moves_the_hint_with_it() -> None:
    from edge_ocr.reader.view import widen_region

    img, box = _putText_scene()
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    r = make_detector("lines").detect(gray)[_hit_rank(make_detector("lines").detect(gray), box) or 0]
    wide = widen_region(gray, r, 2.5)
    assert wide.crop.shape[0] == CROP_HEIGHT
    glyph_px = CROP_HEIGHT / 1.9  # one glyph height in crop pixels (plate = 1.9 glyphs)
    assert wide.crop.shape[1] == pytest.approx(r.crop.shape[1] + 5 * glyph_px, abs=3)
    assert wide.box.w > r.box.w and wide.box.iou(r.box) > 0.4
    for old, new in zip(r.char_boxes, wide.char_boxes, strict=True):
        a = r.crop[old.box.y : old.box.y2, old.box.x : old.box.x2].astype(float)
        b = wide.crop[new.box.y : new.box.y2, new.box.x : new.box.x2].astype(float)
        assert a.shape == b.shape and np.abs(a - b).mean() < 12  # the same glyph, moved
