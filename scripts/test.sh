#!/usr/bin/env bash
# Set up everything the tests need, then lint, type-check and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
export PATH="$PWD/.venv/bin:$PATH"
ruff check edge_ocr convert tests
mypy edge_ocr convert
python -m pytest -q -ra "$@"
