"""Measure every exported file on the held-out split, ship the int8 files with card.json and MODEL_CARD.md.

The held-out figures run the device path (SequenceReader: the same preprocessing, LiteRT or ONNX
Runtime, one thread) on the original crop files, not on the training cache.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from convert.quantize import FILES
from convert.sequence.data import HELDOUT, LICENCES, LineSample, load_real, split_of
from edge_ocr.reader.sequence import ALPHABET, BLANK, INPUT_H, INPUT_W, SequenceReader, greedy_decode

SHIPPED = ("tflite_int8", "onnx_int8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    return {"path": path.name, "sha256": sha256(path), "bytes": path.stat().st_size}


def write_stub(folder: Path, keys: tuple[str, ...]) -> None:
    """A minimal card.json so SequenceReader can open the files before the real card exists."""
    files = {k: file_entry(folder / FILES[k]) for k in keys if (folder / FILES[k]).exists()}
    (folder / "card.json").write_text(json.dumps({"alphabet": ALPHABET, "files": files}))


def read_all(reader: SequenceReader, samples: list[LineSample], batch: int = 32) -> list[str]:
    """Greedy text of every sample, batched; two-row plates go through the side-by-side input."""
    got: dict[int, str] = {}
    # framed samples carry their own row boundary: one batch per (rows, split)
    for rows, split in sorted({(s.rows, s.split_y if s.rows == 2 else 0.5) for s in samples}):
        idx = [
            i for i, s in enumerate(samples) if (s.rows, s.split_y if s.rows == 2 else 0.5) == (rows, split)
        ]
        for j in range(0, len(idx), batch):
            part = idx[j : j + batch]
            logp = reader.log_probs([samples[i].image for i in part], rows, split)
            got.update({i: greedy_decode(lp)[0] for i, lp in zip(part, logp, strict=True)})
    return [got[i] for i in range(len(samples))]


def accuracy(pred: list[str], samples: list[LineSample]) -> dict[str, Any]:
    res: dict[str, Any] = {"all": float(np.mean([p == s.text for p, s in zip(pred, samples, strict=True)]))}
    res["n"] = len(samples)
    for src in sorted({s.source for s in samples}):
        k = [i for i, s in enumerate(samples) if s.source == src]
        res[src] = float(np.mean([pred[i] == samples[i].text for i in k]))
        res[f"n_{src}"] = len(k)
    return res


def ms_per_crop(reader: SequenceReader, samples: list[LineSample], n: int = 200) -> float:
    """Median CPU milliseconds of one read (CPU time: the workstation is shared, wall time is noise)."""
    ts = []
    for s in samples[:n]:
        t0 = time.process_time()
        reader.read(s.image, s.rows)
        ts.append((time.process_time() - t0) * 1e3)
    return float(np.median(ts))


def measure(files_dir: Path, test: list[LineSample], keys: tuple[str, ...] = tuple(FILES)) -> dict[str, Any]:
    """Held-out figures of the files `keys` in files_dir; the int8 drop where both formats were measured."""
    write_stub(files_dir, keys)
    res: dict[str, Any] = {}
    for key in keys:
        backend, fmt = key.split("_")
        reader = SequenceReader(files_dir, backend, fmt)
        res[key] = accuracy(read_all(reader, test), test)
        res[key]["ms_per_crop_median"] = ms_per_crop(reader, test)
    both = [b for b in ("tflite", "onnx") if f"{b}_float" in res and f"{b}_int8" in res]
    if both:
        res["int8_drop_pp"] = {b: 100 * (res[f"{b}_float"]["all"] - res[f"{b}_int8"]["all"]) for b in both}
    return res


def heldout_set(data_dir: Path, work: Path, framing: str, quick: bool = False) -> list[LineSample]:
    """The card's held-out lines: the real sources' test split and WORK's synth-heldout renders."""
    return heldout_lines(load_real(data_dir, limit=12 if quick else 0), synth_heldout(work), framing)


def heldout_lines(real: list[LineSample], held: list[LineSample], framing: str) -> list[LineSample]:
    """The test split of `real` plus `held`, framed by the contour reader's characters for a "chars"
    model (the device path, whatever it found)."""
    test = [s for s in real if split_of(s.text) == "test"] + held
    if framing == "chars":
        from convert.sequence.framing import frame_samples

        test = frame_samples(test, heldout=True)
    return test


def counts(samples: list[LineSample], lines_n: dict[str, Any]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for s in samples:
        part = "test" if s.source.startswith("synth") else split_of(s.text)
        out.setdefault(s.source, {"train": 0, "test": 0})[part] += 1
    for src in ("synth", "synth-us", "scenes-pseudo"):
        n = int(lines_n.get("train", {}).get(src, 0))
        if n or src != "scenes-pseudo":  # the pseudo-labelled scenes only where the run had them (v5)
            out[src] = {"train": n, "test": 0}
    return out


def synth_heldout(work: Path) -> list[LineSample]:
    """The held-out-style US renders written by `python -m convert.sequence crops` (absent: none)."""
    import csv

    import cv2

    folder = work / "synth_heldout"
    if not (folder / "labels.csv").is_file():
        return []
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    imgs = [(cv2.imread(str(folder / "crops" / r["file"]), cv2.IMREAD_GRAYSCALE), r["plate"]) for r in rows]
    paths = [str(folder / "crops" / r["file"]) for r in rows]
    return [
        LineSample(img, text, "synth-heldout", path=p)
        for (img, text), p in zip(imgs, paths, strict=True)
        if img is not None
    ]


def _steps_done(log: Path) -> int:
    """Training steps from the last 'done N steps' line of train.log (0 when absent)."""
    if not log.exists():
        return 0
    done = [ln.split()[2] for ln in log.read_text().splitlines() if " done " in ln]
    return int(done[-1]) if done and done[-1].isdigit() else 0


def build_card(
    out: Path, metrics: dict[str, Any], training: dict[str, Any], data: dict[str, Any], framing: str = "crop"
) -> dict[str, Any]:
    return {
        "name": "plate-seq",
        "version": 1,
        "task": "ctc-line-reading",
        "alphabet": ALPHABET,
        "blank_index": BLANK,
        "num_classes": len(ALPHABET) + 1,
        "labels_file": "labels.txt",
        "input": {
            "shape": [1, INPUT_H, INPUT_W, 1],
            "layout": "NHWC",
            "dtype": "float32",
            # "chars": the region around the contour reader's characters (edge_ocr.reader.seqframe);
            # "crop": the crop as given
            "framing": framing,
            "preprocess": {
                "grey": True,
                "two_rows": "top row left of bottom row, then resize; split at 0.5 of the height (crop framing) "
                "or midway between the rows' characters (chars framing)",
                "resize": [INPUT_H, INPUT_W],
                "interpolation": "INTER_AREA, aspect not kept",
                "stretch": "2nd..98th grey percentile -> 0..1, clipped (range at least 8 grey levels)",
                "function": "edge_ocr.reader.sequence.plate_input",
            },
        },
        "output": {
            "kind": "raw logits per frame; log-softmax on the device; blank last",
            "shape": [1, INPUT_W // 4, len(ALPHABET) + 1],
        },
        "files": {k: file_entry(out / FILES[k]) for k in SHIPPED},
        "metrics": metrics,
        "training": training,
        "data": data,
    }


def write(work: Path, out: Path, data_dir: Path, quick: bool, argv: list[str], version: int = 1) -> None:
    """Measure WORK's exported files, copy the int8 ones to OUT, write card.json + MODEL_CARD.md."""
    from convert.sequence.card_md import model_card_md

    files_dir = work / "export"
    real = load_real(data_dir, limit=12 if quick else 0)
    held = synth_heldout(work)
    framing = (work / "framing.txt").read_text().strip() if (work / "framing.txt").exists() else "crop"
    test = heldout_lines(real, held, framing)
    metrics: dict[str, Any] = {
        "heldout": measure(files_dir, test),
        "split": f"sha1('plate-seq:' + plate) < {HELDOUT} -> test",
    }
    if (work / "fusion_cal.json").exists():  # written by python -m edge_ocr.bench.fusion_cal --json
        metrics["fusion"] = json.loads((work / "fusion_cal.json").read_text())
    if (work / "bench.json").exists():  # written by python -m edge_ocr.bench.sequence --json
        metrics.setdefault("fusion", {})["bench"] = json.loads((work / "bench.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    for k in SHIPPED:
        shutil.copyfile(files_dir / FILES[k], out / FILES[k])
    (out / "labels.txt").write_text("\n".join(ALPHABET) + "\n")
    cfg = (
        json.loads((work / "train_config.json").read_text()) if (work / "train_config.json").exists() else {}
    )
    lines_n = (
        json.loads((work / "lines_counts.json").read_text()) if (work / "lines_counts.json").exists() else {}
    )
    synth = int(lines_n.get("train", {}).get("synth", 0)) if lines_n else 0
    synth_us = int(lines_n.get("train", {}).get("synth-us", 0)) if lines_n else 0
    training = {
        **cfg,
        "steps_done": _steps_done(work / "train.log"),
        "lines": lines_n,
        "retrain_command": "python -m convert.sequence all --data ../shared/data --fonts ../shared/fonts "
        f"--out models/plate-seq --synth {synth} --synth-us {synth_us} --minutes {cfg.get('minutes', 60)}"
        + (" --framing chars" if framing == "chars" else "")
        + (f" --lr {cfg.get('lr')} --init <the previous run's final.weights.h5>" if cfg.get("init") else ""),
        "note": "the budget is wall-clock (cosine learning rate over the elapsed fraction): the steps done "
        "depend on the machine; this run shared 2 CPU cores with other jobs, one thread",
        "card_command": "python -m convert.sequence " + " ".join(argv),
    }
    data = {"counts": counts(real + held, lines_n), "licences": LICENCES}
    card = build_card(out, metrics, training, data, framing)
    card["version"] = version
    if (work / "notes.md").exists():  # what this version changed and why, written by hand
        card["notes"] = (work / "notes.md").read_text(encoding="utf-8")
    (out / "card.json").write_text(json.dumps(card, indent=1))
    (out / "MODEL_CARD.md").write_text(model_card_md(card))
    print(json.dumps(metrics, indent=1))
