"""Ship one experiment run as models/chars62: the four files, labels, card.json and MODEL_CARD.md.

The card carries the held-out accuracies of the shipped files (measured by the run through the
device runtimes), the text-mode figures measured here on rendered pages, and the table of every
run of the experiment folder with the command that produced it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from convert.card import sha256
from convert.chars62.data import GOOD_TEST, GOOD_VAL, HND_TRAIN_WRITERS, LICENCES62, SPLIT_SEED
from convert.quantize import FILES
from edge_ocr.text.render import HND_TEST_WRITER_FROM
from edge_ocr.types import CHARS62

SPLIT_TEXT = (
    f"GoodImg: stratified per class, seed {SPLIT_SEED}, test {GOOD_TEST:.0%} / val {GOOD_VAL:.0%} / rest train; "
    f"EnglishHnd: by writer sample index (< {HND_TRAIN_WRITERS} train, < {HND_TEST_WRITER_FROM} val, rest test); "
    "EnglishFnt: by font (sha1 of the group, 10 % test / 10 % val); synthetic renders: train only"
)


VERSION = 2  # 1: session-1 w16-weighted-e14; 2: label-smoothed runs
ARCHIVE_DROP = ("counts", "quant")  # bulky or per-file details the experiments table does not use


def load_runs(runs: Path, archive: Path | None = None) -> list[dict[str, Any]]:
    """Every run: the archived ones (archive/NAME.json, committed beside the model) and the
    metrics.json of each folder in `runs`, with `best_val`: the best GoodImg validation accuracy
    in its train.log. A run folder overrides an archived run of the same name."""
    found: dict[str, dict[str, Any]] = {}
    if archive is not None:
        for f in sorted(archive.glob("*.json")):
            run = json.loads(f.read_text())
            found[run["name"]] = run
    for run in _folder_runs(runs):
        found[run["name"]] = run
    return list(found.values())


def archive_runs(runs: list[dict[str, Any]], archive: Path) -> None:
    """Keep each run's figures in the repository, so later cards can still compare with them."""
    archive.mkdir(parents=True, exist_ok=True)
    for run in runs:
        slim = {k: v for k, v in run.items() if k not in ARCHIVE_DROP}
        (archive / f"{run['name']}.json").write_text(json.dumps(slim, indent=1) + "\n")


def _folder_runs(runs: Path) -> list[dict[str, Any]]:
    out = []
    for f in sorted(runs.glob("*/metrics.json")):
        run = json.loads(f.read_text())
        log = f.parent / "train.log"
        vals = (
            [float(w.split()[-2]) for w in log.read_text().splitlines() if " epoch " in w and " val " in w]
            if log.exists()
            else []
        )
        # A final fit trains on val: its validation accuracy says nothing and picks nothing.
        run["best_val"] = max(vals) if vals and not run.get("fit_val") else None
        out.append(run)
    return out


def build_card62(model_dir: Path, run: dict[str, Any], text_mode: dict[str, Any]) -> dict[str, Any]:
    channels = 2 if run["config"]["dual"] else 1
    size = int(run["preprocess"]["size"])
    files = {
        k: {"path": f, "sha256": sha256(model_dir / f), "bytes": (model_dir / f).stat().st_size}
        for k, f in FILES.items()
    }
    inp: dict[str, Any] = {
        "shape": [1, size, size, channels],
        "layout": "NHWC",
        "dtype": "float32",
        "preprocess": run["preprocess"],
        "channels": channels,
    }
    if channels == 2:
        inp["second_channel"] = "edge_ocr.text.reader.dual_channels: Otsu binarization of the preprocessed grey"
    counts = run["counts"]
    sources = sorted({s for part in counts.values() for s in part})
    return {
        "name": "chars62",
        "version": VERSION,
        "task": "char-classification",
        "num_classes": len(CHARS62),
        "labels_file": "labels.txt",
        "labels": list(CHARS62),
        "input": inp,
        "output": {"kind": "softmax probabilities", "shape": [1, len(CHARS62)]},
        "files": files,
        "quantization": {
            "tflite_int8": run["quant"],
            "onnx_int8": {
                "format": "QDQ static, per-channel int8 weights, int8 activations, "
                "float32 input/output, Softmax in float"
            },
        },
        "metrics": {"heldout": run["test"], "split": SPLIT_TEXT, "text_mode": text_mode},
        "training": {
            "run": run["name"],
            "command": run["command"],
            "params": run["params"],
            "config": run["config"],
            "train_seconds": run["train_seconds"],
        },
        "data": [
            {
                "source": s,
                "licence": LICENCES62.get(s, "see data README"),
                "samples": {split: part.get(s, 0) for split, part in counts.items()},
            }
            for s in sources
        ],
    }


def ship(
    run_dir: Path, runs: Path, model_dir: Path, text_mode: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Copy the run's files, measure text mode (unless given) and write the card and MODEL_CARD.md."""
    from convert.chars62.md import model_card_md

    model_dir.mkdir(parents=True, exist_ok=True)
    for f in FILES.values():
        shutil.copyfile(run_dir / f, model_dir / f)
    (model_dir / "labels.txt").write_text("\n".join(CHARS62) + "\n")
    run = json.loads((run_dir / "metrics.json").read_text())
    card = build_card62(model_dir, run, text_mode or {})
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    if text_mode is None:
        from convert.chars62.text import measure_text_mode

        card["metrics"]["text_mode"] = measure_text_mode(model_dir)
        (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    every = load_runs(runs, model_dir / "runs")
    archive_runs(every, model_dir / "runs")
    (model_dir / "MODEL_CARD.md").write_text(model_card_md(card, every))
    return card
