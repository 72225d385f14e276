"""`edge-ocr bench` on small generated data: every figure against a hand count.

The plate runs use a scripted reader at the pipeline boundary (fixed reads per image) so that the
scoring, the failure handling and the documents can be checked exactly; the character run uses the
shipped model on rendered tiles and re-derives its accuracy independently.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge_ocr import synth
from edge_ocr.bench.cli import _resolve as resolve
from edge_ocr.bench.cli import build_bench_parser, main
from edge_ocr.bench.report import compare, table, write_doc
from edge_ocr.bench.run import progress_fn
from edge_ocr.bench.run_plates import plates_outcome
from edge_ocr.models import ModelSpec
from edge_ocr.preprocess import batch_inputs
from edge_ocr.types import Box, PlateCandidate, PlateRead


def plate_read(text: str, box: Box, conf: float = 0.9, cands: tuple[str, ...] = ()) -> PlateRead:
    corners = ((box.x, box.y), (box.x2, box.y), (box.x2, box.y2), (box.x, box.y2))
    cand = tuple(PlateCandidate(c, conf) for c in (cands or (text,)))
    return PlateRead(text, conf, "us", True, box, corners, cand, ())


class ScriptedReader:
    """Returns the reads scripted for an image; images are told apart by their first pixel."""

    def __init__(self, script: dict[int, list[PlateRead]]) -> None:
        self.script = script
        self.last_timings: dict[str, float] = {}

    def read_frame(self, image: np.ndarray) -> list[PlateRead]:
        self.last_timings = {"detect": 1.0, "segment": 0.5, "classify": 0.25, "assemble": 0.1}
        return list(self.script.get(int(image[0, 0, 0]), []))

    def read_crop(self, image: np.ndarray) -> PlateRead | None:
        reads = self.read_frame(image)
        return reads[0] if reads else None


def _image(path: Path, key: int) -> None:
    img = np.full((300, 400, 3), 128, np.uint8)
    img[0, 0] = key
    assert cv2.imwrite(str(path), img)


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    build_bench_parser(p)
    args = p.parse_args(argv)
    resolve(args)
    args.progress = progress_fn(False)
    args.argv = argv
    return args


@pytest.fixture()
def e2e_data(tmp_path: Path) -> tuple[Path, Path]:
    frames, neg = tmp_path / "frames", tmp_path / "neg"
    frames.mkdir()
    neg.mkdir()
    _image(frames / "f1.png", 1)
    (frames / "f1.txt").write_text("f1.png\t10\t10\t100\t50\tABC123\n")
    _image(frames / "f2.png", 2)  # two plates in one frame
    (frames / "f2.txt").write_text("f2.png\t200\t10\t100\t50\tXYZ789\nf2.png\t10\t100\t100\t50\tQRS456\n")
    (frames / "f3.txt").write_text("missing.png\t0\t0\t50\t20\tMIS111\n")  # the image is missing
    _image(neg / "n1.png", 11)
    _image(neg / "n2.png", 12)
    return frames, neg


SCRIPT = {
    1: [plate_read("ABC123", Box(12, 10, 100, 50))],
    2: [
        plate_read("XYZ780", Box(200, 12, 100, 50), cands=("XYZ780", "XYZ789")),
        plate_read("QRS456", Box(300, 250, 90, 40), conf=0.5),  # right text, wrong place
    ],
    11: [plate_read("JUNK1", Box(5, 5, 40, 20), conf=0.3)],
}


def test_e2e_figures_match_a_hand_count(e2e_data: tuple[Path, Path], tmp_path: Path) -> None:
    frames, neg = e2e_data
    args = _args(
        ["e2e", str(frames), "--negatives", str(neg), "--out", str(tmp_path / "out"), "--errors", "3"]
    )
    outcome = plates_outcome("e2e", args, lambda a, b, f: (ScriptedReader(SCRIPT), "0" * 64))
    run, negrun = outcome.doc["runs"]
    m = run["metrics"]
    assert (run["dataset"], m["plates"], m["frames"]) == ("frames", 4, 3)
    assert m["exact"] == pytest.approx(1 / 4)  # ABC123 only
    assert m["topn"] == pytest.approx(2 / 4)  # + XYZ789 from the candidates
    assert m["detection_rate"] == pytest.approx(2 / 4)  # QRS456 misplaced, MIS111 missing
    assert m["char_accuracy"] == pytest.approx(1 - (0 + 1 + 6 + 6) / 24, abs=1e-4)
    assert m["false_positives"] == 1 and m["fp_per_frame"] == pytest.approx(1 / 3)
    assert m["first_read_exact"] == pytest.approx(1 / 2)  # single-plate frames f1 (read) and f3 (unreadable)
    assert [Path(f["file"]).name for f in run["failed_files"]] == ["missing.png"]
    assert negrun["dataset"] == "negatives" and negrun["metrics"]["fp_per_frame"] == pytest.approx(0.5)
    lat = run["latency_ms"]
    assert lat["classify"]["median"] == pytest.approx(0.25) and lat["total"]["n"] == 2
    assert lat["total"]["median"] >= lat["decode"]["median"] > 0
    assert run["headline"]["top-1 %"] == 25.0 and run["headline"]["det@0.3 %"] == 50.0
    js, md = write_doc(args.out, outcome.doc, outcome.plots, outcome.extra_md)
    assert json.loads(js.read_text())["runs"][0]["metrics"] == m
    text = md.read_text()
    assert "| run " in text and "top-1 %" in text and "Definitions" in text
    assert "| run (median / p90 ms) | decode | detect | segment | classify | assemble | total |" in text
    assert all(p.exists() and p.suffix == ".png" for p in outcome.plots)
    assert {p.name for p in outcome.plots} >= {"latency-total.png", "accuracy.png", "errors.png"}


def test_crops_exact_and_char_accuracy(tmp_path: Path) -> None:
    _image(tmp_path / "c1.png", 1)
    _image(tmp_path / "c2.png", 2)
    (tmp_path / "groundtruth.csv").write_text("file,state,plate\nc1.png,ca,7ABC123\nc2.png,tx,8XYZ999\n")
    script = {1: [plate_read("7ABC123", Box(0, 0, 10, 10))]}
    args = _args(["crops", str(tmp_path), "--out", str(tmp_path / "out"), "--repeat", "3", "--warmup", "0"])
    run = plates_outcome("crops", args, lambda a, b, f: (ScriptedReader(script), "0" * 64)).doc["runs"][0]
    assert run["metrics"]["exact"] == 0.5 and run["metrics"]["char_accuracy"] == pytest.approx(0.5)
    assert run["metrics"]["false_positives"] == 0
    assert run["latency_ms"]["total"]["n"] == 6  # two crops, three timed passes each
    assert run["headline"]["exact %"] == 50.0


def test_compare_prints_deltas(tmp_path: Path) -> None:
    old: dict[str, Any] = {
        "kind": "crops",
        "runs": [{"name": "tflite-int8", "dataset": "d", "headline": {"exact %": 80.0, "med ms": 10.0}}],
    }
    new: dict[str, Any] = {
        "kind": "crops",
        "runs": [
            {"name": "tflite-int8", "dataset": "d", "headline": {"exact %": 82.5, "med ms": 9.0}},
            {"name": "onnx-int8", "dataset": "d", "headline": {"exact %": 1.0}},
        ],
    }
    lines = compare(new, old)
    assert lines[0] == "tflite-int8 d: exact % 82.50 (+2.50 pp), med ms 9.00 (-1.00)"
    assert lines[1] == "onnx-int8 d: not in the old run"
    assert table(new["runs"])[0].startswith("| run")


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chars", "--backend", "nope", "--out", str(tmp_path)]) == 2
    assert "--backend" in capsys.readouterr().err
    assert main(["crops", str(tmp_path / "absent"), "--out", str(tmp_path)]) == 1


def _available_pairs(model_dir: Path) -> list[tuple[str, str]]:
    card = json.loads((model_dir / "card.json").read_text())
    return [(k.split("_", 1)[0], k.split("_", 1)[1]) for k in card["files"]]


def test_chars_accuracy_agrees_with_a_direct_count(plate_model_dir: Path, tmp_path: Path) -> None:
    """Rendered tiles in the plate-tiles layout; the JSON accuracy must equal our own recount."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    labels = "0A7K"
    (root / "chars" / "plate-tiles" / "gb").mkdir(parents=True)
    for lab in labels:
        d = root / "chars" / "plate-tiles" / "br" / lab
        d.mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(d / f"{i}.png"), synth.render_char(lab, rng, (45, 24)))
    pairs = _available_pairs(plate_model_dir)
    backend, fmt = pairs[0]
    out = tmp_path / "out"
    rc = main(
        [
            "chars",
            "plate-tiles",
            "--data",
            str(root),
            "--split",
            "all",
            "--model",
            str(plate_model_dir),
            "--backend",
            backend,
            "--format",
            fmt,
            "--out",
            str(out),
            "--warmup",
            "1",
            "--errors",
            "4",
            "--no-progress",
        ]
    )
    assert rc == 0
    doc = json.loads((out / "bench-chars.json").read_text())
    run = doc["runs"][0]
    spec = ModelSpec.load(plate_model_dir, fmt, backend)
    tiles = sorted((root / "chars" / "plate-tiles" / "br").glob("*/*.png"))
    x = batch_inputs(
        [np.asarray(cv2.imread(str(t), cv2.IMREAD_GRAYSCALE)) for t in tiles], spec.preprocess, True
    )
    preds = [spec.labels[int(i)] for i in spec.open_backend().run(x).argmax(axis=1)]
    expected = np.mean([p == t.parent.name for p, t in zip(preds, tiles, strict=True)])
    assert run["n"] == 12 and run["accuracy"] == pytest.approx(expected, abs=1e-4)
    assert run["sha256"] == spec.sha256 and doc["machine"]["cpu_model"]
    assert run["latency_ms_per_char"]["batch1"]["n"] > 0 and doc["peak_rss_mb"] > 0
    assert (out / "bench-chars.md").exists() and (out / f"confusion-{backend}-{fmt}.png").exists()


def test_summary_page_is_made_from_the_json(e2e_data: tuple[Path, Path], tmp_path: Path) -> None:
    from edge_ocr.bench.summary import summary

    frames, neg = e2e_data
    args = _args(["e2e", str(frames), "--negatives", str(neg), "--out", str(tmp_path / "out")])
    outcome = plates_outcome("e2e", args, lambda a, b, f: (ScriptedReader(SCRIPT), "0" * 64))
    js, _ = write_doc(args.out, outcome.doc, outcome.plots, outcome.extra_md)
    page = summary([js])
    assert "## Full photos (end to end)" in page and "edge-ocr bench e2e" in page
    assert "| tflite-int8 frames" in page and "25.00" in page and "Definitions" in page


def test_first_read_is_the_readers_first_not_the_most_confident() -> None:
    from edge_ocr.bench.metrics import Pred, Truth
    from edge_ocr.bench.plates import Item, Record
    from edge_ocr.bench.run_plates import first_read_exact

    item = Item(Path("f.jpg"), (Truth("7FR971", Box(0, 0, 10, 5)),))
    ranked = Record(item, (Pred("7FR971", 0.8), Pred("20140512", 0.96)))  # a timestamp ranked second
    assert first_read_exact([ranked]) == 1.0
    assert first_read_exact([Record(item, (Pred("20140512", 0.96), Pred("7FR971", 0.8)))]) == 0.0


def test_cpu_flags_name_the_int8_dot_products(tmp_path: Path) -> None:
    from edge_ocr.bench.env import cpu_flags

    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\ncpu family\t: 25\nmodel\t\t: 1\nflags\t\t: fpu sse4_2 avx avx2 fma\n\n"
                   "processor\t: 1\ncpu family\t: 25\nmodel\t\t: 1\nflags\t\t: fpu sse4_2 avx avx2 fma\n")
    assert cpu_flags(x86) == "family 25 model 1, avx2"
    vnni = tmp_path / "vnni"
    vnni.write_text("cpu family\t: 25\nmodel\t\t: 17\nflags\t\t: avx2 avx512f avx512_vnni\n")
    assert cpu_flags(vnni) == "family 25 model 17, avx2, avx512f, avx512_vnni"
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd evtstrm aes asimddp\nCPU part\t: 0xd0b\n")
    assert cpu_flags(arm) == "asimddp"
    bare = tmp_path / "bare"
    bare.write_text("processor\t: 0\nFeatures\t: fp asimd\n")
    assert cpu_flags(bare).startswith("none of avx2/")
    assert cpu_flags(tmp_path / "missing") == ""
