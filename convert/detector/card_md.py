"""MODEL_CARD.md from card.json: data and licences, per-source figures, int8 vs float, input sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATA = """| data | use here | licence (from ../shared/data READMEs) |
|---|---|---|
| scenes/openimages-rf (850 photos, worldwide Flickr) | training, 15 % held out by photo | CC BY 4.0 (Roboflow "Google Licence Plates" v2); photos Open Images, CC BY 2.0 |
| scenes/andrewmvd-kaggle (298, India/US/EU/AU) | training, 15 % held out by photo | CC0 1.0 |
| scenes/india-aslan (210, India, some Netherlands) | training, 15 % held out by photo | none stated |
| negatives/ (300 plate-free frames), half 0 by md5(name) % 2 | training backgrounds + hard negatives | AGPL-3.0 (openalpr/train-detector) |
| negatives/, half 1 | evaluation only (never seen) | AGPL-3.0 |
| synthetic composites (edge_ocr.synth plates, fonts from ../shared/fonts) | training | generated here |
| scenes/romania-dashcam (267), scenes/bangladesh-dhaka (100) | evaluation only, never trained or tuned on | MIT; none stated |
"""

COLS = ("first_recall", "any_recall", "precision", "false_per_frame")


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def _table(by_set: dict[str, Any], keys: list[str]) -> list[str]:
    rows = ["| set | photos | plates | first proposal IoU>=0.5 | any proposal | precision | false / frame | detect ms median / p90 (wall) | CPU ms median / p90 |",
            "|---|---|---|---|---|---|---|---|---|"]
    for k in keys:
        s = by_set.get(k)
        if s is None:
            continue
        rows.append(f"| {k} | {s['images']} | {s['plates']} | {_pct(s['first_recall'])} | {_pct(s['any_recall'])} | "
                    f"{_pct(s['precision'])} | {s['false_per_frame']:.3f} | {s['wall_ms_median']:.2f} / {s['wall_ms_p90']:.2f} | "
                    f"{s['cpu_ms_median']:.2f} / {s['cpu_ms_p90']:.2f} |")
    return rows


def _formats(card: dict[str, Any]) -> list[str]:
    rows = ["| file | bytes | held-out first / any recall | precision | romania-dashcam first / any | negatives half1 false/frame |",
            "|---|---|---|---|---|---|"]
    for f, sets in card["metrics"]["by_file"].items():
        h, b, n = sets["heldout/all"], sets["romania-dashcam"], sets["negatives/half1"]
        rows.append(f"| {f} | {card['files'][f]['bytes']} | {_pct(h['first_recall'])} / {_pct(h['any_recall'])} | "
                    f"{_pct(h['precision'])} | {_pct(b['first_recall'])} / {_pct(b['any_recall'])} | {n['false_per_frame']:.3f} |")
    return rows


def _comparison(card: dict[str, Any]) -> list[str]:
    cmp_ = card.get("comparison") or {}
    if not cmp_:
        return ["(comparison runs not evaluated)"]
    rows = ["| run | input | channels | held-out first / any recall (own threshold) | precision | int8 letterbox+run ms median, 1280x720: wall / CPU |",
            "|---|---|---|---|---|---|"]
    for name, c in cmp_.items():
        h = c["heldout"]
        rows.append(f"| {name} | {c['size']} | {c['channels']} | {_pct(h['first_recall'])} / {_pct(h['any_recall'])} | "
                    f"{_pct(h['precision'])} | {c.get('int8_ms_median', float('nan')):.2f} / "
                    f"{c.get('int8_cpu_ms_median', float('nan')):.2f} |")
    return rows


BOXES = {"center": "box from the peak cell's offset and size",
         "ltrb": "box from the peak cell's centre and its four predicted edge distances"}
LOSSES = {"center": "L1 on offsets and sqrt sizes at the centre cell",
          "ltrb": "at every cell near a plate's centre (weighted by the heat target there) 1 - IoU of the "
                  "predicted and true boxes (closed form around the cell's centre, as in FCOS) + L1 on the sqrt distances"}


def _lineage(runs: list[dict[str, Any]]) -> list[str]:
    if len(runs) < 2:
        return []
    rows = ["Runs this network continues (each starts from the previous run's weights; a change of box encoding "
            "re-initialises only the box head):", "", "| run | box encoding | steps | batch | trained at | lr | minutes |",
            "|---|---|---|---|---|---|---|"]
    rows += [f"| {r['run']} | {r['box']} | {r['steps']} | {r['batch']} | {r['train_size']} | {r['lr']} | {r['minutes']} |"
             for r in runs]
    return [*rows, ""]


def _drops(d: dict[str, dict[str, float]]) -> str:
    return "; ".join(f"{k}: first {v['first_recall']:+.1f}, any {v['any_recall']:+.1f}" for k, v in d.items())


def _export_note(exp: dict[str, Any]) -> list[str]:
    """How the int8 files were made (convert/detector/export.py), when export.json recorded it."""
    if "equalization" not in exp:
        return []
    n = exp["calibration_images"]
    return [f"int8 export: cross-layer equalization of {exp['equalization']['groups']} groups of BatchNorm+ReLU "
            "outputs (joined by residual Adds and upsampling) before quantization, the same float function; the "
            "heat and box logits quantized separately (sigmoids before the concatenation); int8 ranges from "
            f"{n['tflite']} calibration images for TFLite ({n['onnx']} for ONNX Runtime).", ""]


def _widths(by_set: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Any-proposal recall by plate width in the photo (int8 TFLite, card threshold)."""
    if not by_set:
        return []
    bins = next(iter(by_set.values()))
    # the last bin is open-ended (its max is only a sentinel)
    head = [f"{b['min_px']}-{b['max_px']} px" for b in bins[:-1]] + [f">= {bins[-1]['min_px']} px"]
    rows = [f"| {k} | " + " | ".join(f"{_pct(b['recall'])} ({b['plates']})" if b["plates"] else "-" for b in v) + " |"
            for k, v in by_set.items()]
    return ["### Any-proposal recall by plate width in the photo (plates in brackets)", "",
            "| set | " + " | ".join(head) + " |", "|---|" + "---|" * len(head), *rows,
            "", "Plates under about 60 px wide have 5-7 px characters, which the reader rarely reads.", ""]


def write_markdown(card: dict[str, Any], path: Path) -> None:
    det, tr = card["detector"], card["training"]
    by = card["metrics"]["by_file"]["tflite_int8"]
    keys = [k for k in by if k.startswith("heldout/")] + ["romania-dashcam", "bangladesh-dhaka", "negatives/half0",
                                                           "negatives/half1"]
    lines = [
        "# plate-detector: a learned int8 licence-plate detector (CenterNet/FCOS-style, anchor-free)",
        "",
        f"Input {det['input_width']}x{det['input_height']}x{det['channels']} (letterboxed frame, {det['letterbox']}); "
        f"output stride {det['stride']}: {det['output']}. Decoding (edge_ocr/reader/detect/cnn.py): 3x3 peak "
        f"picking on the heatmap, {BOXES[det.get('box', 'center')]}, greedy NMS (IoU 0.3), best first.",
        f"Score threshold **{det['threshold']:.3f}**, chosen as the best F1 (any-proposal recall x precision) on the "
        "held-out training photos with the int8 TFLite file; never on the benchmark or the evaluation-only sets.",
        "",
        "## Data and licences",
        "",
        DATA,
        f"Split: {tr['heldout_rule']} of the file stem is held out ({tr['heldout_photos']} photos; "
        f"{tr['train_photos']} train). Negatives: {tr['negatives_rule']}. Calibration for int8: training photos and "
        "training-half negatives only. Boxes come from the sources and contain some noise (unboxed distant plates "
        "count as false proposals here).",
        "",
        "## Results (int8 TFLite through LiteRT, one thread, this workstation)",
        "",
        *_table(by, keys),
        "",
        "Detect time covers letterbox (resize included), the network and decoding, per photo; times on these sets (photos up to 512 px).",
        "",
        *_widths(card["metrics"].get("recall_by_plate_width", {})),
        f"### Strict operating point: threshold {card['metrics']['strict']['threshold']:.3f}",
        "",
        f"Rule: {card['metrics']['strict']['rule']}.",
        "",
        *_table(card["metrics"]["strict"]["tflite_int8"], keys),
        "",
        "## int8 vs float (same threshold)",
        "",
        *_formats(card),
        "",
        f"Held-out recall drop int8 vs float, percentage points: {_drops(card['metrics']['int8_recall_drop_pp_heldout'])}",
        "",
        *_export_note(card.get("export", {})),
        "## Input size and colour: measured comparison",
        "",
        "Held-out training photos, int8 TFLite, threshold chosen per row on them. `final weights @ WxH`: the final "
        "network (fully convolutional, trained on views letterboxed to the shipped size, 0.6-2.5x zoom) exported at "
        "each input size; "
        "`cmp_*`: two equal short training runs (300 steps of batch 8, same seed and schedule) per size, too short to "
        "learn plates, kept only as a record.",
        "",
        *_comparison(card),
        "",
        "## Training",
        "",
        f"{tr.get('steps_done')} steps of batch {tr['batch']} in {tr['seconds'] / 60:.0f} min on one CPU thread; Adam, "
        f"lr {tr['lr']} cosine to 1 %; batches mix {tr['p_real']:.0%} real photos, {tr['p_synth']:.0%} composites "
        f"({tr['composites']}), the rest training-half negatives; random zoom 0.6-2.5x, crop, flip, colour, "
        "low light, blur, noise, JPEG. BatchNorm statistics recomputed after training (on whole letterboxed views). "
        f"Loss: CenterNet focal loss on the heatmap + {LOSSES[tr.get('box', 'center')]}."
        + (f" Trained on {tr['patch_w']}x{tr['patch_h']} windows of each letterboxed view (4 in 5 around a plate): "
           "4x fewer pixels per example; the network is fully convolutional and runs at the full input size."
           if tr.get("patch_w") else "")
        + (f" In {tr['p_swap']:.0%} of the real photos the boxed plates were covered by real US plates (us-nyc crops, "
           "training split by plate; convert/detector/swap.py), and half the composites' plates were such crops."
           if tr.get("p_swap") else "")
        + (f" {tr['p_mosaic']:.0%} of the views were 2x2 mosaics of four half-size views (small plates in a whole "
           "frame, as in a 1280x720 photo shrunk 4x)." if tr.get("p_mosaic") else ""),
        "",
        *_lineage(tr.get("lineage") or []),
        "Retrain: `python -m convert.detector all --data ../shared/data --out models/plate-detector --budget-s 4400` "
        "(then, for each later run above, `train --init <previous>/final.weights.h5` with its settings); "
        "benchmark figures come from `python -m edge_ocr.bench.detector` (README), never from convert/.",
        "",
        "![precision-recall](pr_curve.png)",
        "",
    ]
    path.write_text("\n".join(lines))
