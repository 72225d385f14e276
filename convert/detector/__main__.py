"""`python -m convert.detector {train,eval,export,card,all} --data DIR --out models/plate-detector`.

train writes weights under --work (build/detector/<run>); recover rebuilds them from the float ONNX file in
--out (weights lost with an old build/ folder); eval measures the float Keras model with the
device decoder and chooses the threshold on held-out training photos; export writes the four model
files and checks int8 against float; card writes card.json and MODEL_CARD.md. --quick: a tiny run
(seconds) for tests.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m convert.detector")
    ap.add_argument("stage", choices=("train", "eval", "export", "card", "all", "compare", "sizes", "recover"))
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("EDGE_OCR_DATA", "../shared/data")))
    ap.add_argument("--out", type=Path, default=Path("models/plate-detector"))
    ap.add_argument("--work", type=Path, default=Path("build/detector/main"))
    ap.add_argument("--size", default="320x192", help="input WxH (multiples of 32)")
    ap.add_argument("--channels", type=int, default=3, choices=(1, 3))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--budget-s", type=float, default=0.0, help="train for this many seconds (cosine LR over time)")
    ap.add_argument("--schedule-steps", type=int, default=0, help="LR cosine length (default: --steps)")
    ap.add_argument("--checkpoints", default="", help="comma-separated steps to save weights at")
    ap.add_argument("--init", type=Path, default=None, help="train: start from these weights")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0, help="train: batch stream seed (a continued run wants a new one)")
    ap.add_argument("--composites", type=int, default=800)
    ap.add_argument("--swap", type=float, default=0.0,
                    help="train: fraction of real photos whose plates are covered by real US crops (swap.py); "
                         "with it, half the composites' plates are such crops too")
    ap.add_argument("--mosaic", type=float, default=0.0,
                    help="train: fraction of views that are 2x2 mosaics of half-size views (small plates)")
    ap.add_argument("--box", default="ltrb", choices=("center", "ltrb"), help="box encoding (cnn.py)")
    ap.add_argument("--patch", default="160x96", help="train on WxH windows of each view ('0': whole views)")
    ap.add_argument("--quick", action="store_true", help="tiny run for tests")
    ap.add_argument("--full", action="store_true", help="eval: also evaluation-only sets and negatives")
    return ap.parse_args(argv)


def _config(a: argparse.Namespace):  # noqa: ANN202 - TrainConfig, imported lazily
    from convert.detector.train import TrainConfig

    w, h = (int(v) for v in a.size.lower().split("x"))
    steps, batch = (4, 4) if a.quick else (a.steps, a.batch)
    ckpt = tuple(int(s) for s in a.checkpoints.split(",") if s.strip())
    pw, ph = (int(v) for v in a.patch.lower().split("x")) if a.patch != "0" else (0, 0)
    return TrainConfig(width=w, height=h, channels=a.channels, steps=steps, batch=batch, checkpoint_steps=ckpt,
                       lr=a.lr, composites=a.composites, seed=a.seed, p_swap=a.swap, p_mosaic=a.mosaic, box=a.box, patch_w=pw, patch_h=ph,
                       schedule_steps=a.schedule_steps, budget_s=0.0 if a.quick else a.budget_s)


def _model(cfg, work: Path):  # noqa: ANN001, ANN202
    from convert.detector.model import build

    model = build((cfg.height, cfg.width), cfg.channels, cfg.model_width)
    model.load_weights(str(work / "final.weights.h5"))
    return model


def run(argv: list[str] | None = None) -> int:
    a = _args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from convert.detector import evaluate
    from convert.detector.train import train

    cfg = _config(a)
    model = None
    if a.stage == "recover":  # Keras weights back from the shipped float ONNX file (--out) into --work
        from convert.detector.recover import recover

        logging.info("recovered %s", json.dumps(recover(a.out, a.work)))
        return 0
    if a.stage in ("train", "all"):
        model = train(cfg, a.data, a.work, a.quick, a.init)
    if a.stage in ("eval", "all"):
        model = model or _model(cfg, a.work)
        run_ = evaluate.runner(evaluate.keras_forward(model), cfg.size, cfg.channels, cfg.stride, cfg.box)
        rep = evaluate.report(run_, a.data, None, a.full or a.stage == "all", 3 if a.quick else 0)
        evaluate.save(rep, a.work / "eval_float.json")
        logging.info("%s", json.dumps({k: (v["first_recall"], v["any_recall"], v["precision"], v["false_per_frame"])
                                       for k, v in rep["sets"].items()}))
    if a.stage in ("export", "all"):
        from convert.detector import export

        model = model or _model(cfg, a.work)
        export.export(model, cfg, a.data, a.out, a.work, a.quick)
    if a.stage == "compare":
        from convert.detector.compare import compare

        compare(model or _model(cfg, a.work), cfg, a.data, a.work)
    if a.stage in ("sizes", "all"):  # the trained size against a smaller and a larger input
        from convert.detector.compare import size_sweep

        size_sweep(cfg, a.data, a.work, ((256, 160), (cfg.width, cfg.height), (384, 224)), a.quick)
    if a.stage in ("card", "all"):
        from convert.detector import card

        card.write(cfg, a.data, a.out, a.work, a.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
