"""Every command line README.md shows, run as the installed `edge-ocr` in a child process, checking
what it prints (not only its exit code). Inputs are made here: a 1280x720 photo of a car with a
rendered plate, the plate crop, a rendered text page, a tiny annotated folder for `bench e2e`.

`run --config` is also covered with a video and a real broker by test_daemon_e2e.py and
test_mqtt_faults.py; here it runs the shipped example config with a folder source.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from helpers_video import Vehicle, background, default_plate_image, draw_vehicle

from edge_ocr.synth import committed_fonts
from edge_ocr.text.render import make_pages, score_page

REPO = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).parent / "edge-ocr"
PLATE = "KTR4829"


def edge_ocr(*argv: str, cwd: Path = REPO, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    cmd = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "edge_ocr"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([*cmd, *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    return r


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def photo(t: int, frames: int = 3, seed: int = 4) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A road scene with one car; returns the frame and the plate's box (x, y, w, h)."""
    rng = np.random.default_rng(seed)
    frame = background(rng)
    img = default_plate_image(PLATE, rng)
    plate = cv2.resize(img, (240, round(img.shape[0] * 240 / img.shape[1])), interpolation=cv2.INTER_AREA)
    v = Vehicle(PLATE, 0, frames, (40, 40, 160))
    draw_vehicle(frame, v, plate, t)
    x0 = int(-560 + t / max(1, frames - 1) * (1280 + 560))
    ph, pw = plate.shape[:2]
    return frame, (x0 + (560 - pw) // 2, v.y + 330 - ph - 60, pw, ph)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("readme")
    image, (x, y, w, h) = photo(1)
    more = d / "more"
    more.mkdir()
    cv2.imwrite(str(d / "photo.jpg"), image)
    cv2.imwrite(str(more / "car.png"), image)
    cv2.imwrite(str(d / "plate.png"), image[y : y + h, x : x + w])
    (d / "frames").mkdir()
    cv2.imwrite(str(d / "frames" / "f1.png"), image)
    (d / "frames" / "f1.txt").write_text(f"f1.png\t{x}\t{y}\t{w}\t{h}\t{PLATE}\n")
    return {
        "dir": d,
        "photo": d / "photo.jpg",
        "more": more,
        "plate": d / "plate.png",
        "frames": d / "frames",
    }


def test_read_photos_and_a_folder(inputs: dict[str, Path]) -> None:
    r = edge_ocr("read", str(inputs["photo"]), str(inputs["more"]), "--region", "us")
    assert r.returncode == 0, r.stderr
    rows = json_lines(r.stdout)
    assert [row["file"] for row in rows] == [str(inputs["photo"]), str(inputs["more"] / "car.png")]
    for row in rows:
        assert (row["width"], row["height"]) == (1280, 720) and row["ms"] > 0
        assert row["plates"] and row["plates"][0]["plate"] == PLATE, row["plates"][:1]
        assert row["plates"][0]["region"] == "us"


def test_read_crop(inputs: dict[str, Path]) -> None:
    r = edge_ocr("read", "--crop", str(inputs["plate"]))
    assert r.returncode == 0, r.stderr
    (row,) = json_lines(r.stdout)
    (p,) = row["plates"]
    assert p["plate"] == PLATE and len(p["chars"]) == len(PLATE) and p["box"][0] == 0


def test_read_with_reader_parameters_set(inputs: dict[str, Path]) -> None:
    r = edge_ocr("read", str(inputs["photo"]), "--set", "rescue=0", "--set", "second_cut=always")
    assert r.returncode == 0, r.stderr
    (row,) = json_lines(r.stdout)
    assert row["plates"][0]["plate"] == PLATE
    # the parameter reaches the reader: a plate must now have 9 characters, and this one has 7
    r = edge_ocr("read", str(inputs["photo"]), "--set", "min_length=9")
    assert r.returncode == 0, r.stderr
    (row,) = json_lines(r.stdout)
    assert row["plates"] == []
    bad = edge_ocr("read", str(inputs["photo"]), "--set", "rescue=often")
    assert bad.returncode == 2 and "--set rescue='often': expected float" in bad.stderr and not bad.stdout


def test_read_text_mode_prints_the_text(tmp_path: Path) -> None:
    page = make_pages("printed", 1, seed=11, fonts=committed_fonts()[:1])[0]
    f = tmp_path / "page.png"
    cv2.imwrite(str(f), page.image)
    r = edge_ocr("read", "--mode", "text", str(f))
    assert r.returncode == 0, r.stderr
    (row,) = json_lines(r.stdout)
    assert "plates" not in row and len(row["lines"]) == len(page.lines)
    printed = row["text"].split("\n")
    assert printed == [ln["text"] for ln in row["lines"]]
    score = score_page(page.lines, printed)
    print(f"text mode: {page.lines} -> {printed} (chars {score.char_accuracy:.3f})")
    assert score.char_accuracy >= 0.9


def test_read_dir_onnx_float_two_threads_annotated(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = edge_ocr("read", str(inputs["more"]), "--backend", "onnx", "--format", "float", "--threads", "2",
                 "--annotate", str(out) + "/")  # fmt: skip
    assert r.returncode == 0, r.stderr
    (row,) = json_lines(r.stdout)
    assert row["plates"][0]["plate"] == PLATE
    ann = cv2.imread(str(out / "car.jpg"))
    assert ann is not None and ann.shape == (720, 1280, 3)


def test_run_the_example_config_on_a_folder(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for t in range(4, 9):  # the car moves ~150 px a frame, plate in view
        cv2.imwrite(str(frames / f"{t:03d}.png"), photo(t, frames=13)[0])
    text = (REPO / "systemd" / "edge-ocr.toml").read_text()
    text = text.replace('kind = "picamera2"', 'kind = "folder"').replace(
        'uri = "0"', f"uri = {json.dumps(str(frames))}"
    )
    text = text.replace("[mqtt]\nenabled = true", "[mqtt]\nenabled = false")
    text = text.replace('path = "-"', f"path = {json.dumps(str(tmp_path / 'events.jsonl'))}")
    cfg = tmp_path / "edge-ocr.toml"
    cfg.write_text(text)
    r = edge_ocr("run", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    events = json_lines((tmp_path / "events.jsonl").read_text())
    assert [(e["kind"], e["plate"]) for e in events] == [("new", PLATE), ("end", PLATE)], events
    assert "running: camera gate" in r.stderr and "stopped: " in r.stderr and "2 events" in r.stderr


def test_check_config(tmp_path: Path) -> None:
    r = edge_ocr("check-config", "systemd/edge-ocr.toml")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("systemd/edge-ocr.toml: ok\n")
    assert (
        "source  picamera2 0 as camera 'gate'" in r.stdout and "mqtt    localhost:8883 tls=True" in r.stdout
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[tracker]\nend_after_s = nan\n")
    r = edge_ocr("check-config", str(bad))
    assert r.returncode == 2 and "tracker.end_after_s" in r.stderr and "finite" in r.stderr and not r.stdout


def test_bench_e2e_on_a_tiny_folder(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "e2e"
    r = edge_ocr("bench", "e2e", str(inputs["frames"]), "--out", str(out), "--warmup", "0", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "top-1 %" in r.stdout and f"in {out}" in r.stdout, r.stdout
    (js,) = out.glob("*.json")
    run = json.loads(js.read_text())["runs"][0]
    assert run["metrics"]["plates"] == 1 and run["metrics"]["exact"] == 1.0
    assert "100.0" in r.stdout
    # --set reaches the bench's reader and is recorded: with 9-character plates only, nothing is read
    out9 = tmp_path / "e2e-9"
    r = edge_ocr("bench", "e2e", str(inputs["frames"]), "--out", str(out9), "--warmup", "0", "--no-progress",
                 "--set", "min_length=9")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(next(out9.glob("*.json")).read_text())
    assert doc["settings"]["reader_overrides"] == {"min_length": 9}
    assert doc["runs"][0]["metrics"]["exact"] == 0.0


def test_info() -> None:
    r = edge_ocr("info")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("edge-ocr ") and "backends: tflite, onnx" in r.stdout
    assert "36 classes" in r.stdout and "held-out accuracy" in r.stdout
