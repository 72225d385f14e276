#!/usr/bin/env bash
# Fresh machine demo: install the device package, render sample photos, read them, log JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh device
out=${1:-runs/demo}
mkdir -p "$out"
.venv/bin/python -m edge_ocr.synth --out "$out/samples" --n 6 --seed 7
.venv/bin/edge-ocr read "$out/samples"/*.jpg --annotate "$out/annotated" | tee "$out/reads.jsonl"
echo "demo: reads in $out/reads.jsonl, annotated copies in $out/annotated, truth in $out/samples/truth.tsv" >&2
