"""Confusion of plate-chars models on the held-out real plate characters (convert's test split).

    python -m convert.plate_chars.confusion --model v2=models/plate-chars --model v3=build/x/model \\
        --png models/plate-chars/confusion.png --json build/x/confusion.json [--card models/plate-chars]

One PNG: for every model the full 36x36 matrix (rows normalised) and the look-alike groups
O/0/Q, 1/I, 8/B, 5/S, 2/Z with counts. `--card DIR` writes the pair table of all models into that
model's card.json (metrics.confusion_pairs) and MODEL_CARD.md. Never reads bench/.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_ocr.types import PLATE_LABELS

GROUPS = ("O0Q", "1I", "8B", "5S", "2Z")
FOCUS = "".join(GROUPS)
SECTION = "## Confusable pairs (held-out real characters, int8 LiteRT)"


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = len(PLATE_LABELS)) -> np.ndarray:
    """cm[t, p] = how many characters of true class t were read as p."""
    cm = np.zeros((n, n), np.int64)
    np.add.at(cm, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return cm


def pair_confusions(cm: np.ndarray, labels: str = PLATE_LABELS) -> dict[str, Any]:
    """Per group: each ordered look-alike pair 'a>b' (true a read as b), the group's sum of those,
    and how many true characters of the group there were."""
    out: dict[str, Any] = {}
    for g in GROUPS:
        idx = [labels.index(c) for c in g]
        pairs = {
            f"{a}>{b}": int(cm[i, j])
            for a, i in zip(g, idx, strict=True)
            for b, j in zip(g, idx, strict=True)
            if i != j
        }
        out["/".join(g)] = {"pairs": pairs, "within": sum(pairs.values()), "n": int(cm[idx].sum())}
    out["total_within"] = sum(v["within"] for k, v in out.items() if k != "total_within")
    return out


def pair_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows: one per ordered pair and one per group, a column per model."""
    names = list(results)
    rows = ["| true > read as | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    first = results[names[0]]["pairs"]
    for g, v in first.items():
        if g == "total_within":
            continue
        for pair in v["pairs"]:
            rows.append(
                f"| {pair} | " + " | ".join(str(results[m]["pairs"][g]["pairs"][pair]) for m in names) + " |"
            )
        cells = " | ".join(
            f"**{results[m]['pairs'][g]['within']}** of {results[m]['pairs'][g]['n']}" for m in names
        )
        rows.append(f"| **{g}, within the group** | {cells} |")
    rows.append(
        "| **all groups** | " + " | ".join(f"**{results[m]['pairs']['total_within']}**" for m in names) + " |"
    )
    acc = " | ".join(f"{100 * results[m]['accuracy']:.2f} % (n={results[m]['n']})" for m in names)
    rows.append(f"| held-out accuracy | {acc} |")
    return rows


def plot(cms: dict[str, np.ndarray], path: Path, labels: str = PLATE_LABELS) -> None:
    """Top row: the full matrices (row-normalised, log colour); bottom: the look-alike characters, counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    k = len(cms)
    fig, axes = plt.subplots(2, k, figsize=(7.5 * k, 14), squeeze=False)
    idx = [labels.index(c) for c in FOCUS]
    for col, (name, cm) in enumerate(cms.items()):
        rate = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        ax = axes[0, col]
        ax.imshow(np.where(rate > 0, rate, np.nan), cmap="viridis", norm=LogNorm(1e-3, 1))
        ax.set_xticks(range(len(labels)), list(labels), fontsize=7)
        ax.set_yticks(range(len(labels)), list(labels), fontsize=7)
        acc = np.trace(cm) / max(cm.sum(), 1)
        ax.set_title(f"{name}: all 36 (row share, log), acc {100 * acc:.2f} % of {cm.sum()}")
        ax.set_xlabel("read as")
        ax.set_ylabel("true")
        sub = cm[np.ix_(idx, idx)]
        ax = axes[1, col]
        ax.imshow(np.log1p(sub), cmap="Blues")
        for i in range(len(idx)):
            for j in range(len(idx)):
                colour = "white" if i == j else ("red" if sub[i, j] else "grey")
                ax.text(j, i, str(sub[i, j]), ha="center", va="center", color=colour, fontsize=9)
        edges = np.cumsum([len(g) for g in GROUPS])[:-1] - 0.5
        for e in edges:
            ax.axhline(e, color="black", lw=0.8)
            ax.axvline(e, color="black", lw=0.8)
        within = pair_confusions(cm, labels)["total_within"]
        ax.set_xticks(range(len(idx)), list(FOCUS))
        ax.set_yticks(range(len(idx)), list(FOCUS))
        ax.set_title(f"{name}: O/0/Q 1/I 8/B 5/S 2/Z counts ({within} inside the groups)")
        ax.set_xlabel("read as")
        ax.set_ylabel("true")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_card_section(
    card_dir: Path, results: dict[str, dict[str, Any]], png: Path | None, note: str = ""
) -> None:
    """Put the pair table into card.json (metrics.confusion_pairs) and MODEL_CARD.md (replacing an older one)."""
    card_path = card_dir / "card.json"
    card = json.loads(card_path.read_text())
    card["metrics"]["confusion_pairs"] = {
        m: {"accuracy": r["accuracy"], **r["pairs"]} for m, r in results.items()
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    md_path = card_dir / "MODEL_CARD.md"
    text = md_path.read_text().split("\n" + SECTION)[0].rstrip("\n")
    lines = ["", SECTION, ""]
    lines += [
        "Counts of true characters read as their look-alike (convert's test split, n as in the table above)."
    ]
    if png is not None:
        lines += ["", f"![confusion matrices]({png.name})"]
    lines += ["", *pair_table(results), ""] + ([note, ""] if note else [])
    md_path.write_text(text + "\n" + "\n".join(lines))


def heldout_test(data: Path | None, cache: Path | None) -> Any:
    """Convert's held-out test split: the real plate sources, rows whose group hashes to 'test'."""
    from convert.plate_chars.data import REAL_SOURCES, load_plate_arrays, split_masks
    from edge_ocr.preprocess import PreprocessSpec

    arrays = load_plate_arrays(data, PreprocessSpec(), REAL_SOURCES, cache=cache, progress=False)
    return arrays.take(split_masks(arrays.group)["test"])


def evaluate(model_dir: Path, x: np.ndarray, y: np.ndarray, fmt: str = "tflite_int8") -> dict[str, Any]:
    from convert.quantize import FILES
    from convert.verify import run_file

    pred = run_file(model_dir / FILES[fmt], x).argmax(1)
    cm = confusion_matrix(y, pred)
    return {"accuracy": float((pred == y).mean()), "n": len(y), "pairs": pair_confusions(cm), "cm": cm}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m convert.plate_chars.confusion", description=__doc__)
    p.add_argument("--model", action="append", required=True, help="NAME=MODEL_DIR (repeat; order kept)")
    p.add_argument("--data", type=Path, default=None, help="shared data root (default as convert)")
    p.add_argument("--cache", type=Path, default=Path("build/convert/cache"))
    p.add_argument("--format", default="tflite_int8", help="tflite_int8, tflite_float, onnx_int8, onnx_float")
    p.add_argument("--png", type=Path, default=None)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--card", type=Path, default=None, help="model folder whose card gets the pair table")
    p.add_argument("--note", default="", help="a paragraph under the table in MODEL_CARD.md")
    a = p.parse_args(argv)
    test = heldout_test(a.data, a.cache)
    results = {}
    for spec in a.model:
        name, _, folder = spec.partition("=")
        results[name] = evaluate(Path(folder), test.x, test.y, a.format)
    print("\n".join(pair_table(results)))
    if a.png is not None:
        plot({m: r["cm"] for m, r in results.items()}, a.png)
    plain = {
        m: {k: v for k, v in r.items() if k != "cm"} | {"cm": r["cm"].tolist()} for m, r in results.items()
    }
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(plain, indent=1))
    if a.card is not None:
        write_card_section(a.card, results, a.png, a.note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
