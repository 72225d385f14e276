"""MODEL_CARD.md text from card.json (so the two never disagree)."""

from __future__ import annotations

import json
from typing import Any

from convert.card import files_and_training
from edge_ocr.reader.seqframe import FrameParams

FORMATS = ("tflite_int8", "tflite_float", "onnx_int8", "onnx_float")


def _pct(v: Any) -> str:
    return f"{100 * float(v):.2f} %" if isinstance(v, float | int) else "-"


def heldout_table(h: dict[str, Any]) -> list[str]:
    sources = sorted(
        k for k in h["tflite_int8"] if k not in ("all", "n", "ms_per_crop_median") and not k.startswith("n_")
    )
    lines = ["| source | n | " + " | ".join(FORMATS) + " |", "|---|---|" + "---|" * len(FORMATS)]
    for s in sources:
        cells = " | ".join(_pct(h[f].get(s)) for f in FORMATS)
        lines.append(f"| {s} | {h['tflite_int8'].get('n_' + s, '')} | {cells} |")
    cells = " | ".join(f"**{_pct(h[f]['all'])}**" for f in FORMATS)
    lines.append(f"| **all** | {h['tflite_int8']['n']} | {cells} |")
    ms = " | ".join(f"{h[f]['ms_per_crop_median']:.2f}" for f in FORMATS)
    lines.append(f"| CPU ms per crop (median, batch 1, one thread) | | {ms} |")
    return lines


def fusion_lines(f: dict[str, Any] | None) -> list[str]:
    """Contour alone / sequence alone / fused, from edge_ocr.bench.fusion_cal's JSON (and, under
    "bench", edge_ocr.bench.sequence's: measured there, never chosen there)."""
    if not f:
        return []
    out = [
        "## With the contour reader (int8 LiteRT, one thread)",
        "",
        "Fusion: argmax over the contour N-best plus the sequence's best path of log(contour confidence) "
        f"+ {f['weight']} x CTC log-likelihood, + {f.get('keep', 0.0)} for the contour reader's first "
        f"choice; the best path, when not among the N-best, gets {f['absent']} as contour log-score. "
        f"Chosen on {f['chosen_on']}; rule: {f.get('rule', '-')}. On whole frames the read's confidence "
        "stays the contour reader's.",
        "",
        "| set | n | contour | sequence | fused | truth in contour N-best | added CPU ms (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = dict(f.get("sets", {}))
    for name in ("bench_seg_and_ocr_us",):
        if name in f.get("bench", {}):
            rows[name + " (evaluation only)"] = f["bench"][name]
    for name, r in rows.items():
        out.append(
            f"| {name} | {r['n']} | {_pct(r['contour'])} | {_pct(r['sequence'])} | {_pct(r['fused'])} | "
            f"{_pct(r['truth_in_candidates'])} | {r['added_cpu_ms_median']:.2f} |"
        )
    if "unsafe_first_rule" in f:
        first = ", ".join(f"{k} {_pct(v)}" for k, v in f["unsafe_first_rule"].items())
        out += ["", f"The first rule (weight 1.0, absent -5, keep 0) on the same sets: {first}."]
    return [*out, ""]


def framing_lines(framing: str) -> list[str]:
    if framing != "chars":
        return []
    p = FrameParams()
    return [
        "",
        "Input framing (`input.framing: chars`): not the crop as given but the region around the contour "
        f"reader's characters (edge_ocr/reader/seqframe.py: their box widened by {p.above} median character "
        f"heights above and below and {p.beside} beside, clamped to the crop; the whole crop when fewer than "
        f"{p.min_chars} characters were found; two rows split midway between them). Training and held-out "
        "samples were framed by the same device contour reader, so the framing is ours, not the labeller's.",
    ]


def model_card_md(card: dict[str, Any]) -> str:
    h = card["metrics"]["heldout"]
    data = [
        f"| {s} | {c['train']} | {c['test']} | {card['data']['licences'].get(s, 'see data README')} |"
        for s, c in sorted(card["data"]["counts"].items())
    ]
    out = [
        f"# {card['name']} v{card['version']}",
        "",
        "CTC line reader for licence plates: a grey plate crop resized to "
        f"{card['input']['shape'][1]}x{card['input']['shape'][2]} -> {card['output']['shape'][1]} frames x "
        f"{card['num_classes']} classes ({card['alphabet']} + blank last). Raw logits out; the device "
        "(edge_ocr/reader/sequence.py) takes the log-softmax, decodes the best path and scores candidate "
        "strings exactly (CTC forward algorithm). Two-row plates are read with the top row laid left of "
        "the bottom row. All-convolutional (depthwise-separable backbone, 1-D convolutional head): "
        "no recurrent layer, so int8 conversion is plain.",
        *framing_lines(card["input"].get("framing", "crop")),
        "",
        "## Held-out exact-plate accuracy (device path: SequenceReader, one thread)",
        "",
        *heldout_table(h),
        "",
        f"int8 vs float drop (pp): {json.dumps({k: round(v, 2) for k, v in h['int8_drop_pp'].items()})}",
        "",
        f"Split: {card['metrics']['split']} (by plate string: one plate never in both).",
        "",
        *fusion_lines(card["metrics"].get("fusion")),
        *([card["notes"].rstrip(), ""] if card.get("notes") else []),
        "## Data",
        "",
        "| source | train | held-out | licence |",
        "|---|---|---|---|",
        *data,
        "",
        "Never trained, calibrated or tuned on ../shared/data/bench/. int8 calibration: training lines only.",
        "",
        *files_and_training(card, indent=1),
        "",
    ]
    return "\n".join(out)
