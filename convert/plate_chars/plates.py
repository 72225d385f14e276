"""Per-plate held-out check of plate-chars models: the contour reader with each model on held-out plate crops.

    python -m convert.plate_chars.plates --model v2=models/plate-chars --model v3=build/x/model \\
        --json build/x/plates.json

Sets: the held-out split of plates/us-nyc-crops, br-crops and pl-crops (the split of
edge_ocr.bench.sequence: 12 % of plate strings by hash, never trained on by plate-seq; plate-chars
trains on none of these folders). Reads with `Reader(model, reader="contour")`, int8 LiteRT, one
thread, so the character model is the only difference. Prints exact-plate accuracy per set and the
paired flips between the first model and each other one. Never reads bench/.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2

REGIONS = {"us-nyc-crops": "us", "br-crops": "br", "pl-crops": "eu"}


def clean(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


def heldout_crops(data: Path) -> dict[str, list[tuple[Path, str]]]:
    """(image, plate) of the held-out plates per set."""
    from edge_ocr.bench.sequence import split_of

    out: dict[str, list[tuple[Path, str]]] = {}
    for name in ("us-nyc-crops", "pl-crops"):
        folder = data / "plates" / name
        with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
            rows = [(folder / "crops" / r["file"], clean(r["plate"])) for r in csv.DictReader(f)]
        out[name] = [(p, t) for p, t in rows if split_of(t) == "test"]
    br = data / "plates" / "br-crops"
    files = sorted(p for p in br.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    out["br-crops"] = [
        (p, clean(p.stem.split("_")[0])) for p in files if split_of(clean(p.stem.split("_")[0])) == "test"
    ]
    return out


def read_all(model_dir: Path, sets: dict[str, list[tuple[Path, str]]]) -> dict[str, list[str]]:
    """The contour reader's plate for every crop ('' when nothing is read)."""
    from edge_ocr.reader.pipeline import Reader

    out = {}
    for name, items in sets.items():
        reader = Reader(model_dir, "tflite", "int8", REGIONS[name], 1, reader="contour")
        reads = []
        for path, _ in items:
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            r = reader.read_crop(img) if img is not None else None
            reads.append(r.plate if r is not None else "")
        out[name] = reads
    return out


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided exact sign test over the flipped plates (ties dropped)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def compare(truth: Sequence[str], a: Sequence[str], b: Sequence[str]) -> dict[str, Any]:
    """Exact counts of a and b, plates b reads and a does not (gained) and the reverse (lost)."""
    ok_a = [x == t for x, t in zip(a, truth, strict=True)]
    ok_b = [x == t for x, t in zip(b, truth, strict=True)]
    gained = sum(1 for x, y in zip(ok_a, ok_b, strict=True) if y and not x)
    lost = sum(1 for x, y in zip(ok_a, ok_b, strict=True) if x and not y)
    return {
        "n": len(truth),
        "a": sum(ok_a),
        "b": sum(ok_b),
        "gained": gained,
        "lost": lost,
        "p": sign_test_p(gained, lost),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m convert.plate_chars.plates", description=__doc__)
    p.add_argument(
        "--model", action="append", required=True, help="NAME=MODEL_DIR (repeat; the first is the base)"
    )
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    sets = heldout_crops(a.data)
    models = [s.partition("=")[::2] for s in a.model]
    reads = {name: read_all(Path(folder), sets) for name, folder in models}
    base = models[0][0]
    report: dict[str, Any] = {"sets": {k: len(v) for k, v in sets.items()}, "exact": {}, "paired": {}}
    for name, _ in models:
        per = {s: sum(r == t for r, (_, t) in zip(reads[name][s], sets[s], strict=True)) for s in sets}
        report["exact"][name] = {**per, "pooled": sum(per.values())}
    truth = [t for s in sets for _, t in sets[s]]
    for name, _ in models[1:]:
        flat = [r for s in sets for r in reads[name][s]]
        report["paired"][name] = compare(truth, [r for s in sets for r in reads[base][s]], flat)
    n_all = len(truth)
    for name, _ in models:
        ex = report["exact"][name]
        cells = ", ".join(
            f"{s} {100 * ex[s] / max(1, len(sets[s])):.2f} % ({ex[s]}/{len(sets[s])})" for s in sets
        )
        print(f"{name}: {cells}; pooled {100 * ex['pooled'] / n_all:.2f} % ({ex['pooled']}/{n_all})")
    for name, c in report["paired"].items():
        print(f"{name} vs {base}: gained {c['gained']}, lost {c['lost']}, sign test p = {c['p']:.3f}")
    report["reads"] = reads
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
