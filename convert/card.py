"""card.json and MODEL_CARD.md: what the device needs to trust the files, and what a person needs to judge them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from convert.plate_chars.data import LICENCES
from convert.quantize import FILES, TfliteQuant
from convert.verify import ParityReport
from edge_ocr.preprocess import PreprocessSpec


@dataclass(frozen=True)
class CardInputs:
    name: str
    labels: str
    spec: PreprocessSpec
    quant: TfliteQuant
    report: ParityReport
    training: dict[str, Any]
    counts: dict[str, dict[str, int]]  # split -> source -> samples
    version: int = 1
    extra_metrics: dict[str, Any] = field(default_factory=dict)  # e.g. accuracy on uncleaned data


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def _metrics(r: ParityReport) -> dict[str, Any]:
    return {
        "heldout": {
            k: {
                "accuracy": v.accuracy,
                "n": v.n,
                "per_source": v.per_source,
                "accuracy_O0_I1_merged": v.folded,
            }
            for k, v in r.formats.items()
        },
        "int8_float_agreement": r.agreement,
        "int8_drop_pp": r.drop_pp,
        "split": "sha1(group) -> test 10 % / val 10 % / train 80 %; group = plate, page line, or near-duplicate tile",
    }


def build_card(model_dir: Path, c: CardInputs) -> dict[str, Any]:
    files = {
        k: {"path": f, "sha256": sha256(model_dir / f), "bytes": (model_dir / f).stat().st_size}
        for k, f in FILES.items()
    }
    sources = sorted({s for part in c.counts.values() for s in part})
    return {
        "name": c.name,
        "version": c.version,
        "task": "char-classification",
        "num_classes": len(c.labels),
        "labels_file": "labels.txt",
        "labels": list(c.labels),
        "input": {
            "shape": [1, c.spec.size, c.spec.size, 1],
            "layout": "NHWC",
            "dtype": "float32",
            "preprocess": c.spec.to_json(),
        },
        "output": {"kind": "softmax probabilities", "shape": [1, len(c.labels)]},
        "files": files,
        "quantization": {
            "tflite_int8": asdict(c.quant),
            "onnx_int8": {
                "format": "QDQ static, per-channel uint8 weights, uint8 activations, "
                "float32 input/output, Softmax in float"
            },
        },
        "metrics": {**_metrics(c.report), **c.extra_metrics},
        "training": c.training,
        "data": [
            {
                "source": s,
                "licence": LICENCES.get(s, "see data README"),
                "samples": {split: part.get(s, 0) for split, part in c.counts.items()},
            }
            for s in sources
        ],
    }


def write_card(model_dir: Path, c: CardInputs) -> dict[str, Any]:
    """labels.txt, card.json and MODEL_CARD.md into model_dir (the model files must already be there)."""
    (model_dir / "labels.txt").write_text("\n".join(c.labels) + "\n")
    card = build_card(model_dir, c)
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (model_dir / "MODEL_CARD.md").write_text(model_card_md(card))
    return card


def _pct(v: float) -> str:
    return f"{100 * v:.2f} %"


def files_and_training(card: dict[str, Any], indent: int = 2) -> list[str]:
    """The Files and Training sections of a model card: file sizes and hashes, the training record."""
    return [
        "## Files",
        "",
        "| file | bytes | sha256 |",
        "|---|---|---|",
        *[f"| {v['path']} | {v['bytes']} | `{v['sha256'][:16]}…` |" for v in card["files"].values()],
        "",
        "## Training",
        "",
        "```json",
        json.dumps(card["training"], indent=indent),
        "```",
    ]


def files_and_data(card: dict[str, Any]) -> list[str]:
    """The Files, Training and Data sections every model card ends with (plate-chars and chars62)."""
    return [
        *files_and_training(card),
        "",
        "## Data and licences",
        "",
        "| source | licence | train / val / test |",
        "|---|---|---|",
        *[
            f"| {d['source']} | {d['licence']} | {d['samples'].get('train', 0)} / {d['samples'].get('val', 0)} / "
            f"{d['samples'].get('test', 0)} |"
            for d in card["data"]
        ],
        "",
    ]


def model_card_md(card: dict[str, Any]) -> str:
    m = card["metrics"]
    fmts = list(m["heldout"])
    srcs = sorted({s for f in fmts for s in m["heldout"][f]["per_source"]})
    lines = [
        f"# {card['name']} v{card['version']}",
        "",
        f"Character classifier for licence plates: {card['num_classes']} classes "
        f"({''.join(card['labels'])}), input {card['input']['shape']} float32 (see card.json for the "
        "preprocessing: bright ink on dark, tightened to the ink, letterboxed).",
        "",
        "## Held-out accuracy (real characters; run through ai_edge_litert / onnxruntime)",
        "",
        "| source | " + " | ".join(fmts) + " |",
        "|---" * (len(fmts) + 1) + "|",
    ]
    for s in srcs:
        lines.append(
            f"| {s} | "
            + " | ".join(_pct(m["heldout"][f]["per_source"].get(s, float("nan"))) for f in fmts)
            + " |"
        )
    lines.append("| **all** | " + " | ".join(f"**{_pct(m['heldout'][f]['accuracy'])}**" for f in fmts) + " |")
    folded = " | ".join(_pct(m["heldout"][f].get("accuracy_O0_I1_merged", float("nan"))) for f in fmts)
    lines.append(f"| all, O=0 and I=1 merged | {folded} |")
    extra = {
        k: v for k, v in m.items() if k not in ("heldout", "int8_float_agreement", "int8_drop_pp", "split")
    }
    if extra:
        lines += ["", "Other measurements:", "", "```json", json.dumps(extra, indent=2), "```"]
    lines += [
        "",
        f"int8 vs float top-1 agreement: {m['int8_float_agreement']}; drop (pp): {m['int8_drop_pp']}",
        "",
        f"Split: {m['split']}.",
        "",
    ]
    lines += files_and_data(card)
    lines += [
        "Weights derived from AGPL-3.0 and GPL-3.0 data: treat the model files as covered by "
        "those licences when redistributing.",
        "",
        "## Limits",
        "",
        "Confusable pairs (0/O, 1/I, 8/B, 5/S, 2/Z) depend on the typeface; the plate "
        "assembler resolves some by region pattern. bench/ data was never used for training or tuning.",
        "",
        "Data cleaning: vn-char-boxes images whose boxes are misaligned with the glyphs (listed in "
        "convert/vn_misaligned.txt, found with `python -m convert clean` and checked by eye) are left out of "
        "training AND of the held-out figures above; the accuracy with them kept is under 'Other measurements'. "
        "Held-out figures of the box pages and tiles include their own label noise (e.g. O and 0 drawn alike).",
        "",
        "Chars74K fonts (no I, O) and synthetic renders are used for training only, never to measure accuracy.",
        "",
    ]
    return "\n".join(lines)
