"""Independent count of `edge-ocr read` JSON lines against OpenALPR endtoend labels (no edge_ocr imports)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

folder, jsonl = Path(sys.argv[1]), Path(sys.argv[2])
truth: dict[str, list[tuple[str, list[int]]]] = {}
for txt in folder.glob("*.txt"):
    for line in txt.read_text().splitlines():
        p = line.split()
        if len(p) >= 6:
            truth.setdefault(p[0], []).append((p[5].upper(), [int(float(v)) for v in p[1:5]]))


def iou(a: list[int], b: list[int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    u = a[2] * a[3] + b[2] * b[3] - ix * iy
    return ix * iy / u if u else 0.0


n = first = located = hit = first_hit = 0
ms = []
for line in jsonl.read_text().splitlines():
    d = json.loads(line)
    name = Path(d["file"]).name
    if name not in truth:
        continue
    plate, box = truth[name][0]
    n += 1
    ms.append(d["ms"])
    plates = d["plates"]
    first += bool(plates) and plates[0]["plate"] == plate
    hit += any(iou(p["box"], box) >= 0.3 for p in plates)
    first_hit += bool(plates) and iou(plates[0]["box"], box) >= 0.3
    located += any(iou(p["box"], box) >= 0.3 and p["plate"] == plate for p in plates)
ms.sort()
print(
    f"images {n}  first-read exact {first} ({first / n:.2%})  exact at IoU>=0.3 {located} ({located / n:.2%})  "
    f"box hit {hit} ({hit / n:.2%})  first read's box hit {first_hit} ({first_hit / n:.2%})  "
    f"median ms {ms[len(ms) // 2]:.1f}"
)
