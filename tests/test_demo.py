"""README's first command: `bash scripts/demo.sh` renders sample photos, reads them and logs JSON lines."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_script_reads_its_own_samples(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run(
        ["bash", "scripts/demo.sh", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "demo: reads in" in done.stderr
    with (out / "samples" / "truth.tsv").open(newline="") as fh:
        truth = {r["file"]: r["plate"] for r in csv.DictReader(fh, delimiter="\t")}
    lines = [json.loads(x) for x in (out / "reads.jsonl").read_text().splitlines()]
    assert done.stdout.splitlines() == (out / "reads.jsonl").read_text().splitlines()  # tee'd to stdout
    assert sorted(Path(d["file"]).name for d in lines) == sorted(truth)
    first = {Path(d["file"]).name: (d["plates"][0]["plate"] if d["plates"] else "") for d in lines}
    right = sum(first[f] == p for f, p in truth.items())
    assert right >= len(truth) - 1, first  # 6 of 6 when written; one look-alike miss allowed
    assert sorted(p.name for p in (out / "annotated").iterdir()) == sorted(truth)
