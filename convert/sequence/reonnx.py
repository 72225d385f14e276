"""Replace a shipped plate-seq folder's int8 ONNX file by its int8 TFLite file in ONNX form.

`python -m convert.sequence onnx --out models/plate-seq --work build/plate-seq-onnx`

The int8 ONNX file used to be quantized separately, by onnxruntime from the float ONNX file, and read the
held-out lines 0.68 pp worse than float (v5) where the int8 TFLite file lost 0.23 pp. Converting the TFLite
file (convert.quantize.onnx_int8_from_tflite) gives ONNX the same integers and scales, so no float weights
are needed. This stage converts, measures the new file on the card's own held-out set (the real test split
plus the synth-heldout renders, framed as the card stage frames them), refuses to write when the TFLite file
no longer reads that set as its card says (then the set is not the card's, and a drop against the card's
float figures would mean nothing), and updates card.json and MODEL_CARD.md: the onnx_int8 entry, its
held-out figures, the ONNX int8-vs-float drop (against the float figures the card recorded when the float
files existed) and a record of the conversion.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from convert.quantize import FILES, onnx_int8_from_tflite
from convert.sequence.card import file_entry, heldout_set, measure


class CardMismatch(RuntimeError):
    """The held-out set measured here is not the one the card was measured on."""


def reonnx(
    out: Path, work: Path, data_dir: Path, quick: bool = False, tolerance: float = 0.0
) -> dict[str, Any]:
    """Convert, measure and (if the TFLite figure matches the card) rewrite OUT's ONNX int8 file and card."""
    from convert.sequence.card_md import model_card_md

    card = json.loads((out / "card.json").read_text())
    files = work / "export"
    files.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / FILES["tflite_int8"], files / FILES["tflite_int8"])
    onnx_int8_from_tflite(files / FILES["tflite_int8"], files / FILES["onnx_int8"])
    test = heldout_set(data_dir, work, card["input"].get("framing", "crop"), quick)
    got = measure(files, test, ("tflite_int8", "onnx_int8"))
    h = card["metrics"]["heldout"]
    before = h["tflite_int8"]["all"]
    if (
        abs(got["tflite_int8"]["all"] - before) > tolerance
        or got["tflite_int8"]["n"] != h["tflite_int8"]["n"]
    ):
        raise CardMismatch(
            f"{out / FILES['tflite_int8']} reads {got['tflite_int8']['all']:.5f} of {got['tflite_int8']['n']} "
            f"held-out lines here, its card says {before:.5f} of {h['tflite_int8']['n']}: not the card's set "
            f"(is WORK/synth_heldout from `python -m convert.sequence crops` with the card's seed?)"
        )
    old = {"bytes": card["files"]["onnx_int8"]["bytes"], "heldout": h["onnx_int8"]["all"]}
    shutil.copyfile(files / FILES["onnx_int8"], out / FILES["onnx_int8"])
    card["files"]["onnx_int8"] = file_entry(out / FILES["onnx_int8"])
    h["onnx_int8"] = got["onnx_int8"]
    if "onnx_float" in h:
        h["int8_drop_pp"]["onnx"] = 100 * (h["onnx_float"]["all"] - got["onnx_int8"]["all"])
    card.setdefault("export", {})["onnx_int8"] = {
        "method": "convert.quantize.onnx_int8_from_tflite: the int8 TFLite file in ONNX form (tf2onnx), "
        "float32 boundary by QuantizeLinear / DequantizeLinear with the TFLite input and output parameters",
        "command": "python -m convert.sequence onnx --out " + str(out) + " --work " + str(work),
        "date": time.strftime("%Y-%m-%d"),
        "replaced": old,
    }
    (out / "card.json").write_text(json.dumps(card, indent=1))
    (out / "MODEL_CARD.md").write_text(model_card_md(card))
    return {"tflite_int8": got["tflite_int8"], "onnx_int8": got["onnx_int8"], "replaced": old}
