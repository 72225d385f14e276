"""card.json for the device and the measurements behind MODEL_CARD.md, taken through CnnDetector itself.

Every exported file is run by the device code (edge_ocr.reader.detect.cnn with the LiteRT or ONNX
Runtime backend, one thread), so the figures are what ships. The score threshold is chosen on the
held-out training photos with the int8 TFLite file (the default on the device) and then only applied
to the evaluation-only sets and negatives/ (bench/ is measured by edge_ocr.bench.detector only).

card.json cannot go through edge_ocr.models.ModelSpec: that loader is for square grey character
classifiers (num_classes, labels.txt, input shape == preprocess size, one channel). The detector
card keeps its `files` entries (path + sha256, same keys) and adds a `detector` section.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from convert.card import sha256
from convert.detector import data
from convert.detector.card_md import write_markdown
from convert.quantize import FILES
from edge_ocr.bench import detector as bench

log = logging.getLogger("convert.detector")
FORMATS = (("tflite", "int8"), ("tflite", "float"), ("onnx", "int8"), ("onnx", "float"))


OUTPUTS = {
    "center": "(H/stride, W/stride, 5) sigmoid: heat, offset x, offset y, sqrt(w/W), sqrt(h/H)",
    "ltrb": "(H/stride, W/stride, 5) sigmoid: heat, then from the cell centre sqrt(left/W), sqrt(top/H), "
            "sqrt(right/W), sqrt(bottom/H)",
}


def skeleton(cfg: Any, out: Path, threshold: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    card = {
        "name": "plate-detector",
        "version": 2 if cfg.box == "ltrb" else 1,
        "task": "plate-detection",
        "input": {"shape": [1, cfg.height, cfg.width, cfg.channels], "layout": "NHWC", "dtype": "float32",
                  "range": [0.0, 1.0], "colour": "BGR" if cfg.channels == 3 else "grey"},
        "detector": {
            "input_width": cfg.width, "input_height": cfg.height, "channels": cfg.channels, "stride": cfg.stride,
            "letterbox": "top-left anchored, scale = min(W/w, H/h), INTER_AREA (via linear 2x when shrinking > 2x), pad 114",
            "box": cfg.box,
            "output": OUTPUTS[cfg.box],
            "threshold": threshold, "threshold_chosen_on": "held-out training photos (best F1), int8 TFLite",
        },
        "files": {k: {"path": n, "sha256": sha256(out / n), "bytes": (out / n).stat().st_size}
                  for k, n in FILES.items() if (out / n).exists()},
    }
    card.update(extra or {})
    return card


def _items(scenes: list[data.Scene]) -> list[tuple[str, Path, np.ndarray]]:
    return [(s.path.name, s.path, s.boxes) for s in scenes]


def eval_sets(data_dir: Path, quick: bool) -> dict[str, list[tuple[str, Path, np.ndarray]]]:
    """Name -> photos: held-out per source, evaluation-only sets, both negative halves. bench/ is measured
    only by edge_ocr.bench.detector, never here: convert/ trains, calibrates and chooses without it."""
    _, held = data.split_scenes(data_dir)
    sets = {f"heldout/{src}": _items([s for s in held if s.source == src]) for src in data.TRAIN_SETS}
    for name in data.EVAL_ONLY_SETS:
        sets[name] = list(bench.scene_items(data_dir / "scenes" / name))
    for half in (0, 1):
        sets[f"negatives/half{half}"] = [(p.name, p, np.zeros((0, 4), np.float32)) for p in data.negatives(data_dir, half)]
    return {k: v[:3] for k, v in sets.items()} if quick else sets


def measure(out: Path, data_dir: Path, quick: bool) -> dict[str, dict[str, list[bench.Record]]]:
    """Records for every file and set (proposals above the FLOOR score, with times)."""
    import cv2

    cv2.setNumThreads(1)  # detect times are one-core figures
    sets = eval_sets(data_dir, quick)
    recs: dict[str, dict[str, list[bench.Record]]] = {}
    for backend, fmt in FORMATS:
        run, _ = bench.cnn_runner(out, backend, fmt)
        recs[f"{backend}_{fmt}"] = {k: bench.collect(run, iter(v)) for k, v in sets.items()}
        log.info("measured %s_%s", backend, fmt)
    return recs


def pooled_heldout(r: dict[str, list[bench.Record]]) -> list[bench.Record]:
    return [x for k, v in r.items() if k.startswith("heldout/") for x in v]


def summaries(recs: dict[str, dict[str, list[bench.Record]]], t: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f, sets in recs.items():
        out[f] = {k: asdict(bench.summarize(v, t)) for k, v in sets.items()}
        out[f]["heldout/all"] = asdict(bench.summarize(pooled_heldout(sets), t))
    return out


def strict_threshold(neg_train: list[bench.Record], t: float, target: float = 0.05) -> float:
    """A second operating point for the reader: the lowest threshold (from the F1 one up) whose false
    proposals on the training half of negatives/ stay <= target; half 1 remains unseen."""
    for c in np.round(np.arange(t, 0.96, 0.025), 3):
        if bench.summarize(neg_train, float(c)).false_per_frame <= target:
            return float(c)
    return 0.95


def comparison(work: Path) -> dict[str, Any]:
    """The input-size sweep of the final weights and the short comparison runs (build/detector/cmp_*)."""
    res = {}
    if (work / "sizes.json").exists():
        res.update({f"final weights @ {k}": v for k, v in json.loads((work / "sizes.json").read_text()).items()})
    for d in sorted(work.parent.glob("cmp_*")):
        f = d / "compare.json"
        if f.exists():
            res[d.name] = json.loads(f.read_text())
    return res


def lineage(work: Path) -> list[dict[str, Any]]:
    """The training runs this one continues, oldest first (each run's train_config.json names its init)."""
    runs: list[dict[str, Any]] = []
    conf = work / "train_config.json"
    while conf.exists() and len(runs) < 10:
        c = json.loads(conf.read_text())
        if "lineage" in c:  # weights recovered from a shipped file (recover.py): its card's run table
            return [*c["lineage"], *runs]
        size = f"{c.get('patch_w') or c['width']}x{c.get('patch_h') or c['height']}"
        runs.insert(0, {"run": conf.parent.name, "box": c.get("box", "center"), "steps": c.get("steps_done"),
                        "batch": c["batch"], "train_size": size, "lr": c["lr"], "minutes": round(c["seconds"] / 60)})
        init = c.get("init")
        conf = Path(init).parent / "train_config.json" if init else Path("/nonexistent")
    return runs


def write(cfg: Any, data_dir: Path, out: Path, work: Path, quick: bool) -> dict[str, Any]:
    """Measure every file, choose the threshold, write card.json, MODEL_CARD.md and the PR plot."""
    (out / "card.json").write_text(json.dumps(skeleton(cfg, out, 0.3), indent=1))
    recs = measure(out, data_dir, quick)
    t = bench.choose_threshold(pooled_heldout(recs["tflite_int8"]))
    summ = summaries(recs, t)
    strict = strict_threshold(recs["tflite_int8"]["negatives/half0"], t)
    drop = {f"{b}_int8": {k: 100 * (summ[f"{b}_float"]["heldout/all"][k] - summ[f"{b}_int8"]["heldout/all"][k])
                          for k in ("first_recall", "any_recall")} for b in ("tflite", "onnx")}
    train, held = data.split_scenes(data_dir)
    extra = {
        "metrics": {"int8_recall_drop_pp_heldout": drop, "by_file": summ,
                    "strict": {"threshold": strict, "rule": "lowest >= F1 threshold with <= 0.05 false proposals "
                               "per frame on the training half of negatives/", "tflite_int8": summaries(
                                   {"tflite_int8": recs["tflite_int8"]}, strict)["tflite_int8"]},
                    "recall_by_plate_width": {
                        "heldout/all": bench.recall_by_width(pooled_heldout(recs["tflite_int8"]), t),
                        **{k: bench.recall_by_width(v, t) for k, v in recs["tflite_int8"].items()
                           if not k.startswith(("heldout/", "negatives"))}}},
        "training": {**json.loads((work / "train_config.json").read_text()), "lineage": lineage(work),
                     "heldout_photos": len(held), "heldout_rule": f"md5(stem) % 100 < {data.HELDOUT_PCT}",
                     "negatives_rule": "md5(file name) % 2: half 0 used in training, half 1 never seen"},
        "export": json.loads((work / "export.json").read_text()) if (work / "export.json").exists() else {},
        "comparison": comparison(work),
    }
    card = skeleton(cfg, out, t, extra)
    card["detector"]["threshold_strict"] = strict
    (out / "card.json").write_text(json.dumps(card, indent=1))
    curves = {k: bench.pr_curve(v) for k, v in recs["tflite_int8"].items() if not k.startswith("negatives")}
    curves["heldout/all"] = bench.pr_curve(pooled_heldout(recs["tflite_int8"]))
    bench.plot_pr(curves, out / "pr_curve.png", t)
    write_markdown(card, out / "MODEL_CARD.md")
    log.info("card: threshold %.3f; int8 drop %s", t, drop)
    return card
