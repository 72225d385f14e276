"""`edge-ocr read --detector cnn` as a subprocess: the learned detector through the whole read path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.synth.scene import random_scene

MODEL = Path(__file__).resolve().parents[1] / "models" / "plate-detector"


@pytest.mark.skipif(not (MODEL / "card.json").exists(), reason="models/plate-detector not built")
def test_read_with_the_learned_detector_finds_rendered_plates(tmp_path: Path) -> None:
    """Rendered US scenes: the first plate read with `--detector cnn` lies on the rendered plate, and
    most are read exactly (the plate text is printed, checked here, not only the exit code)."""
    truth = {}
    for seed in range(4):
        scene = random_scene(np.random.default_rng(seed), style="us")
        path = tmp_path / f"scene{seed}.png"
        cv2.imwrite(str(path), scene.image)
        truth[str(path)] = scene.plates[0]
    out = subprocess.run([sys.executable, "-m", "edge_ocr", "read", *truth, "--detector", "cnn", "--region", "us"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(rows) == len(truth)
    exact = 0
    for row in rows:
        plate = truth[row["file"]]
        assert row["plates"], f"{row['file']}: nothing read"
        x, y, w, h = row["plates"][0]["box"]
        cx, cy = x + w / 2, y + h / 2
        assert plate.box.x <= cx <= plate.box.x + plate.box.w and plate.box.y <= cy <= plate.box.y + plate.box.h
        exact += row["plates"][0]["plate"] == plate.text
    assert exact >= 3, rows
