"""Benchmark the CTC sequence reader alone and fused with the contour reader's N-best candidates.

    python -m edge_ocr.bench.sequence --data ../shared/data --model models/plate-seq

Measures exact-plate accuracy on the held-out split of us-nyc-crops and on bench/seg-and-ocr-us
(evaluation only: nothing is chosen there), for contour alone, sequence alone and fused with the
model card's fusion rule (chosen on held-out crops by edge_ocr.bench.fusion_cal), plus the sequence
reader's milliseconds per crop. numpy/cv2 only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_ocr.reader.sequence import SequenceReader, fuse
from edge_ocr.types import CharPrediction

HELDOUT = 0.12  # fraction of plate strings held out (shared with convert/sequence)
SALT = "plate-seq"


def split_of(text: str, heldout: float = HELDOUT) -> str:
    """'test' or 'train' from a stable hash of the plate string (a plate never straddles both)."""
    h = int.from_bytes(hashlib.sha1(f"{SALT}:{text}".encode()).digest()[:8], "big") / 2.0**64
    return "test" if h < heldout else "train"


@dataclass(frozen=True)
class Crop:
    path: Path
    text: str
    rows: int = 1


def bench_crops(data: Path) -> list[Crop]:
    """bench/seg-and-ocr-us: groundtruth.csv rows `file,state,PLATE`."""
    folder = data / "bench" / "seg-and-ocr-us"
    with open(folder / "groundtruth.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if len(r) >= 3 and r[0] != "file"]
    return [Crop(folder / r[0], r[2].strip().upper()) for r in rows]


def us_nyc_split(data: Path, split: str) -> list[Crop]:
    """The plates of plates/us-nyc-crops in one split ('train' or 'test', by split_of)."""
    folder = data / "plates" / "us-nyc-crops"
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        text = "".join(c for c in r["plate"].upper() if c.isalnum())
        if split_of(text) == split:
            out.append(Crop(folder / "crops" / r["file"], text))
    return out


def us_nyc_heldout(data: Path) -> list[Crop]:
    """The held-out plates of plates/us-nyc-crops (never used for training)."""
    return us_nyc_split(data, "test")


@dataclass
class Row:
    """Everything fusion needs for one crop, so weights can be searched without re-reading."""

    truth: str
    contour: str
    candidates: list[tuple[str, float]]
    seq_text: str
    logp: np.ndarray
    seq_ms: float  # wall time of the sequence read alone
    added_cpu_ms: float  # CPU time of read + scoring the candidates (fusion's added cost)


# path -> (plate, N-best, final characters) of the contour reader
Contour = dict[str, tuple[str, list[tuple[str, float]], tuple[CharPrediction, ...]]]


def collect(
    seq: SequenceReader, contour: Any, crops: Sequence[Crop], known: Contour | None = None
) -> list[Row]:
    """Read every crop with both readers (contour may be None: sequence only). `known` holds contour
    reads by path (they do not depend on the sequence model): used when there, filled when not.
    With a contour reader the sequence model reads the crop as on the device (framed by the
    characters when its card asks); without one, the whole crop with `c.rows`."""
    rows = []
    known = {} if known is None else known
    for c in crops:
        img = cv2.imread(str(c.path), cv2.IMREAD_COLOR)
        if img is None:
            continue
        plate, cands, chars = known.get(str(c.path), ("", [], ()))
        if contour is not None and str(c.path) not in known:
            pr = contour.read_crop(img)
            if pr is not None:
                plate, cands = pr.plate, [(k.plate, float(k.confidence)) for k in pr.candidates]
                chars = tuple(pr.chars)
            known[str(c.path)] = (plate, cands, chars)
        t0, c0 = time.perf_counter(), time.process_time()
        read = seq.read_line(img, chars) if contour is not None else seq.read(img, c.rows)
        ms = (time.perf_counter() - t0) * 1e3
        fuse(cands, read.logp, 1.0, -5.0)
        cpu = (time.process_time() - c0) * 1e3
        rows.append(Row(c.text, plate, cands, read.text, read.logp, ms, cpu))
    return rows


def fused_accuracy(rows: Sequence[Row], weight: float, absent: float, keep: float = 0.0) -> float:
    return float(np.mean([fuse(r.candidates, r.logp, weight, absent, keep=keep)[0] == r.truth for r in rows]))


def summary(rows: Sequence[Row], weight: float, absent: float, keep: float = 0.0) -> dict[str, float]:
    return {
        "n": len(rows),
        "contour": float(np.mean([r.contour == r.truth for r in rows])),
        "sequence": float(np.mean([r.seq_text == r.truth for r in rows])),
        "fused": fused_accuracy(rows, weight, absent, keep),
        "truth_in_candidates": float(np.mean([r.truth in {c for c, _ in r.candidates} for r in rows])),
        "seq_ms_median": float(np.median([r.seq_ms for r in rows])),
        "added_cpu_ms_median": float(np.median([r.added_cpu_ms for r in rows])),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edge_ocr.bench.sequence")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--model", type=Path, default=Path("models/plate-seq"))
    p.add_argument("--backend", default="tflite", choices=("tflite", "onnx"))
    p.add_argument("--fmt", default="int8", choices=("int8", "float"))
    p.add_argument("--json", type=Path, default=None, help="write the figures here too")
    a = p.parse_args(argv)
    from edge_ocr import Reader

    seq = SequenceReader(a.model, a.backend, a.fmt)
    rule = seq.card.get("metrics", {}).get("fusion", {})
    w, absent, keep = (float(rule.get(k, d)) for k, d in (("weight", 1.0), ("absent", -5.0), ("keep", 0.0)))
    contour = Reader(region="us", reader="contour")
    res = {
        "weight": w,
        "absent": absent,
        "keep": keep,
        "chosen_on": rule.get("chosen_on", "the model card"),
        "us_nyc_heldout": summary(collect(seq, contour, us_nyc_heldout(a.data)), w, absent, keep),
        "bench_seg_and_ocr_us": summary(collect(seq, contour, bench_crops(a.data)), w, absent, keep),
    }
    print(json.dumps(res, indent=1))
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
