#!/usr/bin/env bash
# Re-run every benchmark behind docs/RESULTS.md, one after another (timings suffer from parallel jobs).
# Usage: docs/results/run_benchmarks.sh [OUT]   (from the repository root; PYTHON defaults to .venv/bin/python)
# Then: $PYTHON -m edge_ocr.bench.summary OUT/chars/bench-chars.json OUT/crops-us/bench-crops.json \
#         OUT/crops-br/bench-crops.json OUT/e2e-us/bench-e2e.json
set -euo pipefail
OUT=${1:-runs/results}
PY=${PYTHON:-.venv/bin/python}
D=${EDGE_OCR_DATA:-../shared/data}
export OMP_NUM_THREADS=1
$PY -m edge_ocr.bench chars --errors 24 --repeat 3 --out "$OUT/chars"
$PY -m edge_ocr.bench crops "$D/bench/seg-and-ocr-us" --region us --backend tflite,onnx --format int8,float \
    --errors 16 --out "$OUT/crops-us"
$PY -m edge_ocr.bench crops "$D/plates/br-crops" --region br --errors 16 --out "$OUT/crops-br"
$PY -m edge_ocr.bench e2e "$D/bench/endtoend-us" --negatives "$D/negatives" --region us --errors 16 \
    --out "$OUT/e2e-us"
# Independent count: score the plain `read` output with a script that shares no code with the bench.
$PY -m edge_ocr read "$D/bench/endtoend-us" --region us > "$OUT/read-endtoend-us.jsonl"
$PY docs/results/score_read.py "$D/bench/endtoend-us" "$OUT/read-endtoend-us.jsonl"
