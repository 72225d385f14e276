"""Rescue (FrameParams.rescue): a frame where the learned detector finds nothing at its threshold reads its
best box down to a lower score, and keeps the read only when both readers agree on a plate that fits a
region pattern (fusion.sure)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.reader.detect.cnn import CnnDetector
from edge_ocr.reader.detect.refine import CnnLineDetector
from edge_ocr.reader.pipeline import Reader
from edge_ocr.synth.scene import random_scene

MODEL = Path(__file__).resolve().parents[1] / "models" / "plate-detector"
needs_model = pytest.mark.skipif(not (MODEL / "card.json").exists(), reason="models/plate-detector not built")


@needs_model
def test_propose_or_rescue_is_propose_until_nothing_passes() -> None:
    det = CnnDetector(MODEL)
    scene = random_scene(np.random.default_rng(1), style="us")
    props = det.propose(scene.image)
    assert props
    assert det.propose_or_rescue(scene.image, 0.05) == (props, [])
    # the card's threshold above every score: nothing passes, and the best box comes back alone, rescued
    det.params = replace(det.params, threshold=1.01)
    assert det.propose(scene.image) == []
    none, low = det.propose_or_rescue(scene.image, 0.05)
    assert none == [] and low == props[:1]
    # a rescue threshold above the best score finds nothing either
    assert det.propose_or_rescue(scene.image, props[0].score + 0.01) == ([], [])
    regions = CnnLineDetector(det).detect_rescue(scene.image, 0.05)
    assert len(regions) == 1 and regions[0].rescued and regions[0].alternate is None


def _rescuing(threshold: float = 1.01) -> Reader:
    """A Reader with rescue on, whose detector's card threshold is above every score (nothing passes)."""
    reader = Reader(region="us", detector="cnn", rescue=0.05)
    det = reader._the_detector()
    assert isinstance(det, CnnLineDetector)
    det.cnn.params = replace(det.cnn.params, threshold=threshold)
    return reader


@needs_model
@pytest.mark.parametrize(("seed", "kept"), [(4, True), (2, False)])
def test_a_rescued_box_is_read_only_when_sure(seed: int, kept: bool) -> None:
    scene = random_scene(np.random.default_rng(seed), style="us")
    found = Reader(region="us", detector="cnn").read_frame(scene.image)
    assert len(found) == 1 and found[0].plate == scene.plates[0].text
    # seed 4: 9WN999 fits the US patterns and both readers read it; seed 2: GC24840 fits none
    assert found[0].matches_pattern is kept
    assert (
        Reader(region="us", detector="cnn", rescue=0.05).read_frame(scene.image) == found
    )  # nothing to rescue
    rescued = _rescuing().read_frame(scene.image)
    assert rescued == (found if kept else [])


@needs_model
def test_texture_rescued_is_not_a_plate() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    reader = _rescuing()
    det = reader._the_detector()
    assert isinstance(det, CnnLineDetector)
    regions = det.detect_rescue(noise, 0.0001)
    assert len(regions) == 1 and regions[0].rescued
    assert reader.read_frame(noise) == []
