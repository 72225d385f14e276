"""Experiments driver for the 62-class reader: train one configuration, export, measure every format.

    PYTHONPATH=. python -m convert.chars62.run train --name w16 --width 16 --epochs 10 --out runs/
    PYTHONPATH=. python -m convert.chars62.run train --name w16-dual --width 16 --dual ...
    PYTHONPATH=. python -m convert.chars62.run ship --run runs/w16 --runs runs/ --model models/chars62

Every run writes RUN/metrics.json (held-out accuracy per source, per format, case-insensitive too)
and the four model files, so `ship` can copy the winner and tabulate all runs in the model card.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from convert.chars62.data import DataConfig, load62, split_counts
from convert.chars62.train import (
    Train62Config,
    accuracy62,
    adjust_prior,
    ensemble_targets,
    model_input,
    train62,
    training_prior,
)
from convert.plate_chars.data import CharArrays
from edge_ocr.preprocess import PreprocessSpec
from edge_ocr.types import CHARS62

CACHE = Path(os.environ.get("CHARS62_CACHE", "/tmp/chars62-cache"))


def case_fold_accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    """Accuracy when upper and lower case of a letter count as the same answer."""
    fold = np.array([ord(c.lower()) for c in CHARS62])
    return float((fold[pred] == fold[y]).mean()) if len(y) else float("nan")


def score_table(pred: np.ndarray, data: CharArrays) -> dict[str, dict[str, float]]:
    """Per source: exact accuracy, case-insensitive accuracy, sample count."""
    out = {}
    for src in np.unique(data.source):
        m = data.source == src
        out[str(src)] = {
            "accuracy": float((pred[m] == data.y[m]).mean()),
            "case_insensitive": case_fold_accuracy(pred[m], data.y[m]),
            "n": int(m.sum()),
        }
    return out


def measure_files(model_dir: Path, data: CharArrays, dual: bool) -> dict[str, Any]:
    """Run the four exported files with the device runtimes on held-out data."""
    from convert.quantize import FILES
    from convert.verify import run_file

    x = model_input(data.x, dual)
    preds = {k: run_file(model_dir / f, x).argmax(1) for k, f in FILES.items()}
    res: dict[str, Any] = {k: score_table(p, data) for k, p in preds.items()}
    res["agreement"] = {
        fam: float((preds[f"{fam}_int8"] == preds[f"{fam}_float"]).mean()) for fam in ("tflite", "onnx")
    }
    return res


def _spec(args: argparse.Namespace) -> PreprocessSpec:
    return PreprocessSpec(size=args.size, tighten=args.tighten)


def _teacher(runs: str, temperature: float, log: Any) -> Any:
    """Soft-target function of an ensemble of earlier runs (their float ONNX files; grey input only)."""
    from convert.verify import run_onnx

    files = [Path(r) / "model_float.onnx" for r in runs.split(",")]
    for f in files:
        if not f.is_file():
            raise SystemExit(f"teacher model not found: {f}")
    log(f"teachers {[str(f) for f in files]} T={temperature}")

    def soft(x: np.ndarray) -> np.ndarray:
        return ensemble_targets([run_onnx(f, x, threads=1) for f in files], temperature)

    return soft


def cmd_train(args: argparse.Namespace) -> int:
    from convert.quantize import export_all

    out = Path(args.out) / args.name
    out.mkdir(parents=True, exist_ok=True)
    logf = (out / "train.log").open("a")

    def log(msg: str) -> None:
        logf.write(f"{time.strftime('%H:%M:%S')} {msg}\n")
        logf.flush()

    spec = _spec(args)
    dcfg = DataConfig(fnt_per_class=args.fnt_per_class, scene_per_class=args.scene_per_class)
    data = load62(None, spec, dcfg, cache=CACHE)
    cfg = Train62Config(
        width=args.width,
        dual=args.dual,
        weighted=args.weighted,
        epochs=args.epochs,
        batch_size=args.batch,
        seed=args.seed,
        lr=args.lr,
        threads=args.threads,
        label_smoothing=args.label_smoothing,
        distill=args.distill if args.teachers else 0.0,
        distill_t=args.distill_t,
        keep_last=args.fit_val,
    )
    teacher = _teacher(args.teachers, cfg.distill_t, log) if args.teachers else None
    if args.fit_val:  # the final fit of a recipe chosen on val: val joins training, the last epoch is kept
        data["train"] = CharArrays.concat([data["train"], data["val"]])
    if args.good_repeat > 1:  # weigh the natural-image photos (the target domain) up in training
        tr = data["train"]
        good = tr.take(tr.source == "chars74k-good")
        data["train"] = CharArrays.concat([tr] + [good] * (args.good_repeat - 1))
    val = data["val"].take(data["val"].source == "chars74k-good")
    t0 = time.time()
    model = train62(data["train"], val, cfg, log=log, teacher=teacher)
    train_s = time.time() - t0
    good_test = data["test"].take(data["test"].source == "chars74k-good")
    prior: dict[str, Any] = {"mode": args.prior}
    if args.prior == "good":
        tr = data["train"]
        target = np.bincount(tr.y[tr.source == "chars74k-good"], minlength=len(CHARS62)) + 1.0
        before = (accuracy62(model, val, cfg.dual), accuracy62(model, good_test, cfg.dual))
        delta = adjust_prior(model, training_prior(tr.y, len(CHARS62), cfg.weighted), target / target.sum())
        after = (accuracy62(model, val, cfg.dual), accuracy62(model, good_test, cfg.dual))
        prior["keras_val_before_after"] = [before[0], after[0]]
        prior["keras_test_before_after"] = [before[1], after[1]]
        prior["bias_offsets"] = {c: round(float(d), 3) for c, d in zip(CHARS62, delta, strict=True)}
        log(
            f"prior adjustment: val {before[0]:.4f} -> {after[0]:.4f}, test {before[1]:.4f} -> {after[1]:.4f}"
        )
    calib = data["train"].x[np.random.default_rng(1).permutation(len(data["train"]))[:300]]
    q = export_all(model, model_input(calib, cfg.dual), out)
    metrics = {
        "name": args.name,
        "command": " ".join(sys.argv),
        "params": int(model.count_params()),
        "config": cfg.to_json(),
        "data_config": dcfg.__dict__,
        "prior": prior,
        "good_repeat": args.good_repeat,
        "fit_val": args.fit_val,
        "teachers": args.teachers.split(",") if args.teachers else [],
        "preprocess": spec.to_json(),
        "train_seconds": round(train_s),
        "counts": split_counts(data),
        "quant": q.__dict__,
        "test": measure_files(out, data["test"], cfg.dual),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    log("done " + json.dumps(metrics["test"]["tflite_int8"]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="convert.chars62.run")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train, export and measure one configuration")
    t.add_argument("--name", required=True)
    t.add_argument("--out", default="runs62")
    t.add_argument("--width", type=int, default=16)
    t.add_argument("--dual", action="store_true")
    t.add_argument("--weighted", action="store_true")
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--batch", type=int, default=48)
    t.add_argument("--seed", type=int, default=0, help="training seed (data and split stay fixed)")
    t.add_argument("--size", type=int, default=32)
    t.add_argument("--tighten", action="store_true")
    t.add_argument("--fnt-per-class", type=int, default=150)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--label-smoothing", type=float, default=0.0)
    t.add_argument("--teachers", default="", help="comma-separated run folders to distil from (ensemble)")
    t.add_argument("--distill", type=float, default=0.7, help="weight of the teachers' soft targets")
    t.add_argument("--distill-t", type=float, default=1.0, help="temperature of the teachers' ensemble")
    t.add_argument(
        "--good-repeat", type=int, default=1, help="GoodImg training photos seen this often per epoch"
    )
    t.add_argument(
        "--fit-val",
        action="store_true",
        help="final fit: train on train + val and keep the last epoch (val accuracy then means nothing)",
    )
    t.add_argument("--scene-per-class", type=int, default=0, help="synthetic scene tiles per class")
    t.add_argument(
        "--prior",
        choices=("none", "good"),
        default="none",
        help="good: shift the output bias to the GoodImg training-split class prior (logit adjustment)",
    )
    t.set_defaults(func=cmd_train)
    s = sub.add_parser("ship", help="copy a run into the model folder and write the card")
    s.add_argument("--run", required=True)
    s.add_argument("--runs", required=True, help="folder of all runs, tabulated in the card")
    s.add_argument("--model", default="models/chars62")
    s.set_defaults(func=_ship)
    return p


def _ship(args: argparse.Namespace) -> int:
    from convert.chars62.card import ship

    ship(Path(args.run), Path(args.runs), Path(args.model))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "replace"]
