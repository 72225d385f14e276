"""python -m convert.sequence {data,train,export,card,crops,pseudo,extend,onnx,all} --data DIR --out models/plate-seq

data: real crops + synthetic renders -> WORK/lines.pkl (split by plate string)
train: CTC training under a wall-clock budget -> WORK/final.weights.h5
export: int8/float TFLite and ONNX (calibrated on training lines only; the int8 ONNX file is the int8 TFLite
  file converted, unless --onnx-int8 calibrate) -> OUT
card: held-out exact-plate accuracy by source for every file, card.json, labels.txt, MODEL_CARD.md
crops: the held-out-style US renders as PNG files + labels.csv (WORK/synth_heldout), for edge_ocr.bench
pseudo: RapidOCR-confirmed plate texts of the training scene sets' boxes -> PSEUDO_OUT (pseudo.py; extra `pseudo`)
extend: BASE/lines.pkl + the pseudo labels our readers confirmed -> WORK/lines.pkl (extend.py; v5)
onnx: OUT's int8 ONNX file rebuilt from OUT's int8 TFLite file, measured, card updated (reonnx.py)
--quick runs every stage on a handful of samples in seconds (for tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m convert.sequence")
    p.add_argument("stage", choices=("data", "train", "export", "card", "crops", "pseudo", "extend", "onnx", "all"))
    p.add_argument("--data", type=Path, default=Path(os.environ.get("EDGE_OCR_DATA", "../shared/data")))
    p.add_argument("--fonts", type=Path, default=Path("../shared/fonts"))
    p.add_argument("--out", type=Path, default=Path("models/plate-seq"))
    p.add_argument("--work", type=Path, default=Path("build/sequence"))
    p.add_argument("--pseudo-out", type=Path, default=Path("build/scenes-pseudo"), help="pseudo's OUT")
    p.add_argument("--base", type=Path, default=None, help="extend: the work folder whose lines.pkl grows")
    p.add_argument("--synth", type=int, default=12000, help="synthetic plates to render")
    p.add_argument("--synth-us", type=int, default=12000, help="varied US-style plates (usplate.py)")
    p.add_argument("--synth-heldout", type=int, default=600, help="held-out-style renders (test only)")
    p.add_argument("--init", default="", help="weights to start training from (warm restart)")
    p.add_argument("--minutes", type=float, default=60.0, help="training wall-clock budget")
    p.add_argument("--max-steps", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument(
        "--framing",
        default="crop",
        choices=("crop", "chars"),
        help="crop: the crop as given (v1); chars: around the contour reader's characters (framing.py)",
    )
    p.add_argument("--reframe", type=float, default=0.0, help="share of real crops reframed (lines.reframe)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="TensorFlow threads for train and export")
    p.add_argument("--calib", type=int, default=1000, help="training lines used to calibrate int8")
    p.add_argument(
        "--onnx-int8",
        default="tflite",
        choices=("tflite", "calibrate"),
        help="tflite: the int8 TFLite file converted (v5: 0.23 pp below float on held-out lines); "
        "calibrate: onnxruntime's own quantization of the float ONNX file (v5: 0.68 pp)",
    )
    p.add_argument("--model-version", type=int, default=1, help="card version")
    p.add_argument("--quick", action="store_true", help="tiny run (seconds) for tests")
    a = p.parse_args(argv)
    if a.quick:
        a.synth, a.minutes, a.max_steps, a.batch, a.calib = 16, 0.2, 3, 8, 8
        a.synth_us, a.synth_heldout = 16, 8
    return a


def _threads(n: int = 1) -> None:
    """One thread everywhere by default: the workstation is shared and the device runs one thread too;
    `--threads N` lets a training run have the whole machine."""
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def log_to(work: Path) -> Callable[[str], None]:
    work.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        with open(work / "train.log", "a", encoding="utf-8") as f:
            f.write(line + "\n")

    return log


def stage_data(a: argparse.Namespace) -> None:
    from collections import Counter

    from convert.sequence import lines, usplate
    from convert.sequence.data import load_real
    from convert.sequence.synth import render_many

    real = load_real(a.data, limit=12 if a.quick else 0)
    synth = render_many(a.synth, a.fonts, a.seed)
    us = usplate.render_many(a.synth_us, a.fonts, a.seed + 1)
    held = usplate.render_many(a.synth_heldout, a.fonts, a.seed + 2, held_out=True)
    samples = real + synth + us + held
    if a.framing == "chars":
        from convert.sequence.data import split_of
        from convert.sequence.framing import frame_samples

        log = log_to(a.work)
        test = [
            s.source == "synth-heldout" or (not s.source.startswith("synth") and split_of(s.text) == "test")
            for s in samples
        ]
        samples = frame_samples(
            [s for s, t in zip(samples, test, strict=True) if not t], False, log
        ) + frame_samples([s for s, t in zip(samples, test, strict=True) if t], True, log)
    (a.work / "framing.txt").write_text(a.framing)
    built = lines.build(samples)
    lines.save(built, a.work / "lines.pkl")
    n = {k: dict(Counter(v.sources)) for k, v in built.items()}
    (a.work / "lines_counts.json").write_text(json.dumps(n))
    print(n)


def stage_train(a: argparse.Namespace) -> None:
    from convert.sequence import lines
    from convert.sequence.train import TrainConfig, train

    _threads(a.threads)
    cfg = TrainConfig(
        a.minutes,
        a.max_steps,
        a.batch,
        a.lr,
        seed=a.seed,
        eval_every_s=1e9 if a.quick else 300,
        init=a.init,
        reframe=a.reframe,
    )
    log = log_to(a.work)
    log(f"train {vars(cfg)}")
    train(lines.load(a.work / "lines.pkl"), cfg, a.work, log)
    (a.work / "train_config.json").write_text(json.dumps(vars(cfg), indent=1))


def stage_export(a: argparse.Namespace) -> None:
    from convert.sequence.export import export

    _threads(a.threads)
    export(a.work, a.calib, a.seed, a.onnx_int8)


def stage_card(a: argparse.Namespace) -> None:
    from convert.sequence.card import write

    write(a.work, a.out, a.data, quick=a.quick, argv=sys.argv[1:], version=a.model_version)


def stage_crops(a: argparse.Namespace) -> None:
    """The same renders as the data stage's synth-heldout lines (same seed), as files a bench can read."""
    import cv2

    from convert.sequence import usplate

    out = a.work / "synth_heldout"
    (out / "crops").mkdir(parents=True, exist_ok=True)
    rows = ["file,plate"]
    for i, s in enumerate(usplate.render_many(a.synth_heldout, a.fonts, a.seed + 2, held_out=True)):
        cv2.imwrite(str(out / "crops" / f"{i:05d}.png"), s.image)
        rows.append(f"{i:05d}.png,{s.text}")
    (out / "labels.csv").write_text("\n".join(rows) + "\n")


def stage_onnx(a: argparse.Namespace) -> None:
    from convert.sequence.reonnx import reonnx

    if not (a.work / "synth_heldout" / "labels.csv").is_file():
        stage_crops(a)  # the card's synth-heldout renders (same seed), needed for the card's figures
    got = reonnx(a.out, a.work, a.data, quick=a.quick)
    print(json.dumps({k: {f: v.get(f) for f in ("all", "n", "ms_per_crop_median")} if k != "replaced" else v
                      for k, v in got.items()}))


def stage_pseudo(a: argparse.Namespace) -> None:
    """Plate texts for the training scene sets' boxes, kept where two readers confirm them (pseudo.py)."""
    from convert.sequence.pseudo import run

    run(a.data, a.pseudo_out, limit=2 if a.quick else 0)


def stage_extend(a: argparse.Namespace) -> None:
    from convert.sequence.extend import extend

    if a.base is None:
        raise SystemExit("extend needs --base WORK_DIR (the run whose lines.pkl the pseudo labels join)")
    extend(a.base, a.pseudo_out, a.work, log_to(a.work))


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    stages = ("data", "train", "export", "card") if a.stage == "all" else (a.stage,)
    for s in stages:
        stage = {"data": stage_data, "train": stage_train, "export": stage_export, "card": stage_card}
        stage["crops"] = stage_crops
        stage["pseudo"] = stage_pseudo
        stage["extend"] = stage_extend
        stage["onnx"] = stage_onnx
        stage[s](a)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
