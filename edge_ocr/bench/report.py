"""Benchmark documents: JSON (machine-readable), Markdown summary, a printed table, and deltas.

Every run carries a small ordered `headline` (name -> number, unit in the name) so the table, the
Markdown and `--compare` treat chars, crops and e2e runs alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge_ocr.errors import EdgeOcrError


def run_key(run: dict[str, Any]) -> str:
    return f"{run['name']} {run.get('dataset', '')}".strip()


def table(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Plain-text table rows (also valid Markdown) of every run's headline figures."""
    if not runs:
        return ["(no runs)"]
    cols = list(dict.fromkeys(k for r in runs for k in r["headline"]))
    head = ["run", *cols]
    rows = [[run_key(r), *[_fmt(r["headline"].get(c)) for c in cols]] for r in runs]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *[line(r) for r in rows]]


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


def load_doc(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise EdgeOcrError(f"{path}: not found") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise EdgeOcrError(f"{path}: not a benchmark JSON: {exc}") from exc
    if not isinstance(doc, dict) or "runs" not in doc:
        raise EdgeOcrError(f"{path}: not a benchmark JSON (no 'runs')")
    return doc


def compare(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """One line per run present in both documents: each headline figure with its change."""
    old_runs = {run_key(r): r for r in old["runs"]}
    out = []
    if new.get("kind") != old.get("kind"):
        out.append(f"note: comparing a {new.get('kind')} run with a {old.get('kind')} run")
    for r in new["runs"]:
        prev = old_runs.get(run_key(r))
        if prev is None:
            out.append(f"{run_key(r)}: not in the old run")
            continue
        parts = []
        for k, v in r["headline"].items():
            pv = prev["headline"].get(k)
            if isinstance(v, int | float) and isinstance(pv, int | float):
                unit = " pp" if "%" in k else ""
                parts.append(f"{k} {_fmt(v)} ({v - pv:+.2f}{unit})")
        out.append(f"{run_key(r)}: " + ", ".join(parts))
    return out


def markdown(doc: dict[str, Any], plots: Sequence[Path], extra: Sequence[str] = ()) -> str:
    m = doc["machine"]
    s = doc["settings"]
    lines = [
        f"# edge-ocr bench {doc['kind']}",
        "",
        f"`{doc['command']}` — {doc['created']}",
        "",
        *table(doc["runs"]),
        "",
        *extra,
        f"Machine: {m['cpu_model']} [{m.get('cpu_flags', '')}] ({m['cpu_count']} cores, load average {m.get('load_avg_1m')} at start), "
        f"{m['system']}, {m['machine']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
        f"Settings: threads {s['threads']}, warmup {s['warmup']}, repeat {s['repeat']}, limit {s['limit']}. "
        f"Peak RSS {doc['peak_rss_mb']:.0f} MB.",
        "",
        f"Code: commit {str(doc.get('code', {}).get('commit'))[:12]}"
        + (" with local changes" if doc.get("code", {}).get("modified") else "")
        + ".",
        "",
        "Model files: " + ", ".join(f"{k} `{v[:12]}`" for k, v in doc["model"]["sha256"].items()),
        "",
        *[f"![{p.stem}]({p.name})" for p in plots],
        "",
    ]
    return "\n".join(lines)


def write_doc(
    out: Path, doc: dict[str, Any], plots: Sequence[Path], extra: Sequence[str] = ()
) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    js = out / f"bench-{doc['kind']}.json"
    md = out / f"bench-{doc['kind']}.md"
    js.write_text(json.dumps(doc, indent=1) + "\n")
    md.write_text(markdown(doc, plots, extra))
    return js, md
