"""`python -m edge_ocr.bench.summary RUN.json ... > docs/RESULTS.md`: one Markdown page from bench runs.

The page is made from the JSON documents only, so every number in it was produced by the tool, next
to the command that produced it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge_ocr.bench.report import load_doc, table
from edge_ocr.bench.run import format_table
from edge_ocr.bench.run_plates import DEFINITIONS, stage_table
from edge_ocr.errors import EdgeOcrError

TITLES = {"chars": "Character classifier", "crops": "Plate crops", "e2e": "Full photos (end to end)"}


def section(doc: dict[str, Any]) -> list[str]:
    m, code = doc["machine"], doc.get("code", {})
    lines = [f"## {TITLES.get(doc['kind'], doc['kind'])}", "", "```", doc["command"], "```", ""]
    if doc["kind"] == "chars":
        ds = doc.get("dataset", {})
        lines += [f"Characters: {ds.get('name')} ({ds.get('n')} samples).", ""]
    lines += [*table(doc["runs"]), ""]
    if doc["kind"] == "chars":
        lines += format_table(doc.get("float_vs_int8", []))
    else:
        lines += stage_table(doc["runs"])
    lines += [
        f"{doc['created']}, {m['cpu_model']} [{m.get('cpu_flags', '')}] ({m['cpu_count']} cores, load average {m.get('load_avg_1m')}), "
        f"threads {doc['settings']['threads']}, peak RSS {doc['peak_rss_mb']:.0f} MB, "
        f"code {str(code.get('commit'))[:12]}, model "
        + ", ".join(f"{k} `{v[:12]}`" for k, v in doc["model"]["sha256"].items()),
        "",
    ]
    return lines


def summary(paths: Sequence[Path]) -> str:
    docs = [load_doc(p) for p in paths]
    lines = ["# Benchmark results", ""]
    for d in docs:
        lines += section(d)
    if any(d["kind"] != "chars" for d in docs):
        lines += list(DEFINITIONS)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m edge_ocr.bench.summary RUN.json ...", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(summary([Path(a) for a in args]))
    except EdgeOcrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
