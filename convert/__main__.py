"""`python -m convert all --data DIR --out models/plate-chars --seed 0`: retrain, export, verify, card.

Subcommands run the stages one at a time against a work folder (--work) holding the Keras model:
  data      preprocess and cache the sources, print the split sizes
  train     train and save WORK/model.keras (+ WORK/training.json)
  quantize  export the four model files from WORK/model.keras into --out
  verify    held-out accuracy per format and source; exit 1 when an int8 file is over budget
  card      verify, then write labels.txt, card.json, MODEL_CARD.md into --out
  all       everything above in order
  clean     rewrite convert/vn_misaligned.txt using the int8 ONNX model in --out as the reference
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from convert.plate_chars.data import (
    EXTRA_SOURCES,
    REAL_SOURCES,
    CharArrays,
    load_plate_arrays,
    split_masks,
    synth_arrays,
)
from convert.plate_chars.fonts import DEFAULT_FONTS_DIR, FONT_SETS, cache_tag, char_renderer, font_set
from edge_ocr.preprocess import PreprocessSpec
from edge_ocr.types import PLATE_LABELS

STAGES = ("data", "train", "quantize", "verify", "card", "all", "clean")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m convert", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("stage", choices=STAGES)
    p.add_argument(
        "--data", type=Path, default=None, help="shared data root (default: $EDGE_OCR_DATA or ../shared/data)"
    )
    p.add_argument("--out", type=Path, default=Path("models/plate-chars"))
    p.add_argument(
        "--work", type=Path, default=Path("build/convert"), help="intermediate files (Keras model, cache)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument(
        "--width", type=int, default=None, help="channels of the first conv block (16 -> ~110 k params)"
    )
    p.add_argument(
        "--sources",
        default=",".join(REAL_SOURCES + EXTRA_SOURCES),
        help="training sources; held-out accuracy is measured on the real plate sources among them",
    )
    p.add_argument(
        "--synth",
        type=int,
        default=None,
        help="synthetic renders per class added to training (default 400; 0: none)",
    )
    p.add_argument(
        "--synth-fonts",
        choices=FONT_SETS,
        default="committed",
        help="fonts of the renders: the 4 committed ones; system: plus the plate-like system fonts; "
        "plate: system plus the plate typefaces under --fonts",
    )
    p.add_argument("--fonts", type=Path, default=DEFAULT_FONTS_DIR, help="plate fonts (--synth-fonts plate)")
    p.add_argument("--label-smoothing", type=float, default=None, help="label smoothing (default 0)")
    p.add_argument(
        "--epoch-samples",
        type=int,
        default=None,
        help="random training subset per epoch (default 25000; 0: all)",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--model-version", type=int, default=1, help="version number written in card.json")
    p.add_argument("--max-drop-pp", type=float, default=0.5)
    p.add_argument("--min-agreement", type=float, default=0.99)
    p.add_argument("--quick", action="store_true", help="tiny, fast run for tests: 2 epochs, narrow net")
    a = p.parse_args(argv)
    if a.synth is None:
        a.synth = 0 if a.quick else 400
    return a


def load_splits(a: argparse.Namespace, spec: PreprocessSpec) -> dict[str, CharArrays]:
    """train/val/test by group hash; val and test keep only the real plate sources."""
    arrays = load_plate_arrays(
        a.data, spec, a.sources.split(","), cache=a.work / "cache", progress=not a.quick
    )
    masks = split_masks(arrays.group)
    real = np.array([not str(s).startswith(("chars74k", "synth")) for s in arrays.source])
    splits = {
        "train": arrays.take(masks["train"]),
        "val": arrays.take(masks["val"] & real),
        "test": arrays.take(masks["test"] & real),
    }
    if a.synth > 0:
        fonts = font_set(a.synth_fonts, a.fonts)
        render, tag = char_renderer(fonts), cache_tag(a.synth_fonts, fonts)
        extra = synth_arrays(render, a.synth, spec, a.seed, a.work / "cache", tag=tag)
        splits["train"] = CharArrays.concat([splits["train"], extra])
    return splits


def counts(splits: dict[str, CharArrays]) -> dict[str, dict[str, int]]:
    return {k: dict(sorted(Counter(map(str, v.source)).items())) for k, v in splits.items()}


def train_config(a: argparse.Namespace) -> Any:
    from convert.plate_chars.train import TrainConfig

    cfg = TrainConfig(seed=a.seed, threads=a.threads)
    if a.quick:
        cfg = replace(cfg, epochs=2, width=8, batch_size=32, verbose=0, epoch_samples=0)
    if a.epoch_samples is not None:
        cfg = replace(cfg, epoch_samples=a.epoch_samples)
    if a.epochs is not None:
        cfg = replace(cfg, epochs=a.epochs)
    if a.width is not None:
        cfg = replace(cfg, width=a.width)
    if a.label_smoothing is not None:
        cfg = replace(cfg, label_smoothing=a.label_smoothing)
    return cfg


def stage_train(a: argparse.Namespace, splits: dict[str, CharArrays]) -> None:
    from convert.plate_chars.train import accuracy, train

    cfg = train_config(a)
    t0 = time.time()
    a.work.mkdir(parents=True, exist_ok=True)
    model = train(splits["train"], splits["val"], len(PLATE_LABELS), cfg, a.work / "checkpoint.keras")
    model.save(a.work / "model.keras")
    info = {
        **asdict(cfg),
        "params": int(model.count_params()),
        "train_seconds": round(time.time() - t0, 1),
        "sources": a.sources,
        "synth_per_class": a.synth,
        "synth_fonts": a.synth_fonts,
        **({"fonts": str(a.fonts)} if a.synth_fonts == "plate" else {}),
        "val_accuracy_keras": accuracy(model, splits["val"]),
        "command": " ".join(["python -m convert", *sys.argv[1:]]),
    }
    (a.work / "training.json").write_text(json.dumps(info, indent=2))
    print(
        f"trained {info['params']} params in {info['train_seconds']} s, val {info['val_accuracy_keras']:.4f}"
    )


def stage_quantize(a: argparse.Namespace, splits: dict[str, CharArrays]) -> None:
    import keras

    from convert.plate_chars.train import setup_tf
    from convert.quantize import export_all

    setup_tf(a.seed, a.threads)
    model = keras.models.load_model(a.work / "model.keras")
    rng = np.random.default_rng(a.seed)
    calib = splits["train"].x[rng.permutation(len(splits["train"]))[: 64 if a.quick else 500]]
    q = export_all(model, calib, a.out)
    (a.work / "quant.json").write_text(json.dumps(asdict(q)))
    print(f"exported to {a.out}: {q}")


def stage_card(a: argparse.Namespace, splits: dict[str, CharArrays], spec: PreprocessSpec) -> None:
    from convert.card import CardInputs, write_card
    from convert.plate_chars.data import LICENCES
    from convert.plate_chars.fonts import SYNTH_LICENCE
    from convert.quantize import tflite_quant_params
    from convert.verify import verify

    report = verify(a.out, splits["test"], a.max_drop_pp, a.min_agreement)
    training = json.loads((a.work / "training.json").read_text())
    LICENCES["synth"] = SYNTH_LICENCE[training.get("synth_fonts", "committed")]
    training["retrain_command"] = retrain_command(training, a.out)
    q = tflite_quant_params(a.out / "model_int8.tflite")
    extra = {"vn_char_boxes_test_including_misaligned_images": uncleaned_vn(a, spec)}
    c = CardInputs(
        "plate-chars",
        PLATE_LABELS,
        spec,
        q,
        report,
        training,
        counts(splits),
        extra_metrics=extra,
        version=a.model_version,
    )
    write_card(a.out, c)
    print_report(report)


def retrain_command(t: dict[str, Any], out: Path) -> str:
    """The one `all` command that reproduces this training (explicit, so later default changes do not lie)."""
    return (
        f"python -m convert all --data DATA --out {out} --seed {t['seed']} --epochs {t['epochs']} "
        f"--epoch-samples {t['epoch_samples']} --synth {t['synth_per_class']} --width {t['width']} "
        f"--sources {t['sources']} --synth-fonts {t.get('synth_fonts', 'committed')} "
        f"--label-smoothing {t.get('label_smoothing', 0.0)}"
        + (f" --fonts {t['fonts']}" if "fonts" in t else "")
    )


def uncleaned_vn(a: argparse.Namespace, spec: PreprocessSpec) -> dict[str, float]:
    """Held-out vn-char-boxes accuracy with the misaligned images kept: the honest floor for that set."""
    from convert.plate_chars.data import to_arrays
    from convert.quantize import FILES
    from convert.verify import run_file
    from edge_ocr.bench.datasets import load_vn_char_boxes

    if "vn-char-boxes" not in a.sources.split(","):
        return {}
    data = to_arrays(load_vn_char_boxes(a.data), spec, progress=False)
    test = data.take(split_masks(data.group)["test"])
    return {k: float((run_file(a.out / f, test.x).argmax(1) == test.y).mean()) for k, f in FILES.items()}


def print_report(report: Any) -> None:
    for k, r in report.formats.items():
        per = ", ".join(f"{s} {100 * v:.2f}" for s, v in r.per_source.items())
        print(f"{k:13s} {100 * r.accuracy:6.2f} % (n={r.n})  [{per}]")
    print(f"agreement {report.agreement}  drop_pp {report.drop_pp}")


def stage_clean(a: argparse.Namespace, spec: PreprocessSpec) -> None:
    from convert.plate_chars.clean import image_disagreement, write_list
    from convert.plate_chars.data import VN_MISALIGNED

    scores = image_disagreement(a.out / "model_int8.onnx", a.data, spec)
    bad = write_list(scores, VN_MISALIGNED)
    print(f"{len(bad)} of {len(scores)} vn-char-boxes images listed in {VN_MISALIGNED}")


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    spec = PreprocessSpec()
    if a.stage == "clean":
        stage_clean(a, spec)
        return 0
    splits = load_splits(a, spec)
    if a.stage in ("data", "all"):
        print(json.dumps(counts(splits), indent=1))
    if a.stage in ("train", "all"):
        stage_train(a, splits)
    if a.stage in ("quantize", "all"):
        stage_quantize(a, splits)
    if a.stage == "verify":
        from convert.verify import ParityError, verify

        try:
            print_report(verify(a.out, splits["test"], a.max_drop_pp, a.min_agreement))
        except ParityError as e:
            print(f"PARITY FAILURE: {e}", file=sys.stderr)
            return 1
    if a.stage in ("card", "all"):
        from convert.verify import ParityError

        try:
            stage_card(a, splits, spec)
        except ParityError as e:
            print(f"PARITY FAILURE: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
