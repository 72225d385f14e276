from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.cli import main
from edge_ocr.paths import REPO_ROOT
from edge_ocr.synth.plate import render_plate


@pytest.fixture(scope="module")
def plate_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("plates")
    rp = render_plate("ABC1234", np.random.default_rng(3), style="br", height=100)
    path = d / "ABC1234.png"
    cv2.imwrite(str(path), rp.image)
    return path


def _huge_png(path: Path, w: int = 20000, h: int = 20000) -> None:
    """A valid PNG header announcing w x h pixels, with almost no data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_read_crop_prints_the_output_contract(plate_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, err = _run(capsys, "read", "--crop", "--region", "br", str(plate_png))
    assert code == 0, err
    (row,) = rows
    assert row["file"] == str(plate_png) and row["width"] > 0 and row["height"] > 0 and row["ms"] >= 0
    (p,) = row["plates"]
    assert set(p) == {
        "plate",
        "confidence",
        "region",
        "matches_pattern",
        "box",
        "corners",
        "candidates",
        "chars",
    }
    assert p["plate"] == "ABC1234" and p["matches_pattern"] and p["region"] == "br"
    assert len(p["chars"]) == 7 and all(len(c["box"]) == 4 for c in p["chars"])
    assert p["candidates"][0]["plate"] == p["plate"]


def test_bad_files_are_reported_and_the_rest_still_run(
    plate_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncated = tmp_path / "truncated.jpg"
    source = cv2.imread(str(plate_png))
    assert source is not None
    ok, buf = cv2.imencode(".jpg", source)
    truncated.write_bytes(buf.tobytes()[: len(buf) // 2])
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    huge = tmp_path / "huge.png"
    _huge_png(huge)
    missing = tmp_path / "missing.jpg"
    args = [str(missing), str(truncated), str(plate_png), str(text), str(huge)]
    code, rows, err = _run(capsys, "read", "--crop", *args)
    assert code == 1
    assert [r["file"] for r in rows] == [str(plate_png)]
    for bad, why in [
        (missing, "no such file"),
        (truncated, "truncated"),
        (text, "not an image"),
        (huge, "too large"),
    ]:
        assert f"{bad}: {why}" in err


def test_folder_input_and_annotation(
    plate_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "annotated"
    code, rows, _ = _run(capsys, "read", "--crop", "--annotate", str(out), str(plate_png.parent))
    assert code == 0 and len(rows) == 1
    img, src = cv2.imread(str(out / "ABC1234.jpg")), cv2.imread(str(plate_png))
    assert img is not None and src is not None and img.shape[:2] == src.shape[:2]


def test_onnx_backend_and_float_format(plate_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, err = _run(capsys, "read", "--crop", "--backend", "onnx", "--format", "float", str(plate_png))
    assert code == 0, err
    assert rows[0]["plates"][0]["plate"] == "ABC1234"


def test_usage_and_model_errors_exit_2(
    plate_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["read"], ["read", "--threads", "0", str(plate_png)], ["read", "--backend", "tpu", "x"], []):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    capsys.readouterr()
    code, rows, err = _run(capsys, "read", "--model", str(tmp_path / "nomodel"), str(plate_png))
    assert code == 2 and not rows and "nomodel" in err


def test_info_lists_backends_and_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "backends: tflite, onnx" in out and "36 classes" in out and "tflite_int8" in out


def test_module_entry_point_exit_code(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "edge_ocr", "read", "--crop", str(tmp_path / "absent.png")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert r.returncode == 1 and "absent.png: no such file" in r.stderr and r.stdout == ""


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a child process with a timeout: a hang fails the test instead of stalling it."""
    r = subprocess.run(
        [sys.executable, "-m", "edge_ocr", *argv], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )
    assert "Traceback" not in r.stderr, r.stderr
    return r


def test_fifo_is_refused_not_waited_on(plate_png: Path, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    os.mkfifo(folder / "inner.jpg")
    r = _cli("read", "--crop", str(fifo), str(folder), str(plate_png))
    assert r.returncode == 1
    assert f"{fifo}: not a regular file (a FIFO)" in r.stderr
    assert f"{folder / 'inner.jpg'}: not a regular file (a FIFO)" in r.stderr
    assert [json.loads(x)["file"] for x in r.stdout.splitlines()] == [str(plate_png)]


def test_annotate_onto_an_existing_file_is_a_usage_error(plate_png: Path, tmp_path: Path) -> None:
    taken = tmp_path / "out.txt"
    taken.write_text("mine\n")
    r = _cli("read", "--crop", "--annotate", str(taken), str(plate_png))
    assert r.returncode == 2 and r.stdout == ""
    assert f"--annotate {taken}: exists and is not a folder" in r.stderr
    assert taken.read_text() == "mine\n"


def test_symlink_loops_in_a_folder_are_reported(plate_png: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(plate_png.read_bytes())
    (folder / "loop.png").symlink_to("loop.png")
    (folder / "ping").symlink_to("pong")
    (folder / "pong").symlink_to("ping")
    (folder / "again").symlink_to(".")  # a folder loop: not entered, so no endless walk
    r = _cli("read", "--crop", str(folder))
    assert r.returncode == 1
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [row["file"] for row in rows] == [str(folder / "a.png")]
    for name in ("loop.png", "ping", "pong"):
        assert f"{folder / name}: cannot read: Too many levels of symbolic links" in r.stderr, r.stderr


def test_read_threads_sets_opencvs_pool_too(plate_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--threads 1` means one core: OpenCV's own worker pool had spun beside the reader (1.6 cores)."""
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(4)
        assert main(["read", "--crop", str(plate_png), "--threads", "1"]) == 0
        assert json.loads(capsys.readouterr().out)["plates"]
        assert cv2.getNumThreads() == 1
        assert main(["read", "--crop", str(plate_png), "--threads", "2"]) == 0
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)
