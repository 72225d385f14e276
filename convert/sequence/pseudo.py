"""Pseudo-labels for the plates boxed in the scene photos (workstation only; extra `pseudo`).

The scene sets have plate boxes but no plate text. Each box is cropped (a small margin around it) and
read four times: RapidOCR (PaddleOCR's PP-OCRv4 detector + recogniser, from the rapidocr-onnxruntime
wheel, nothing downloaded) on (a) the crop as is and (b) the crop scaled to 64 px high with CLAHE
contrast, and our own Reader on the crop: the contour reader and the sequence model's reading. A
label is kept only where two of the reads confirm it (keep_label): RapidOCR's two passes agree, or
either pass agrees with one of our readers. Only the training sets are read (SETS); the
evaluation-only scene sets and bench/ never are.

Out: OUT/crops/<set>__<stem>__<k>.png (k: the box's line in its label file), OUT/labels.csv (kept
rows), OUT/all.csv (every box; plate empty where nothing was kept; agree `skipped` for a box too
small to crop, which has no PNG) and OUT/summary.json (counts).
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SETS = ("openimages-rf", "andrewmvd-kaggle", "india-aslan")  # training sets only: never the eval ones
COLUMNS = ("file", "plate", "set", "agree", "rapid_a", "rapid_b", "contour", "sequence", "rapid_conf")
KINDS = ("rapid_ab", "contour", "sequence")  # the confirmations keep_label names, in this order
MARGIN = 0.08  # of the box height, each side
MIN_H, MIN_W = 12, 30  # smaller boxes are skipped (too few pixels to label)
MIN_LEN, MAX_LEN = 4, 10  # a kept label's characters
VIEW_H = 64  # pass (b): the crop scaled to this height, CLAHE on grey
# RapidOCR's detector scales a crop's shorter side up to this (its default 736 suits pages, not one
# plate): on 72 crops of the training sets 320 was about 6x faster (0.15 against 0.98 s a box), and on 28
# of them its two passes agreed on 16 against 10 (at 736, pass (a) found no text on small crops).
DET_SIDE = 320


def clean(text: str) -> str:
    """Upper case, A-Z and 0-9 only."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def keep_label(rapid_a: str, rapid_b: str, contour: str, sequence: str) -> tuple[str, str] | None:
    """(label, confirmations) when a confirmed text of MIN_LEN..MAX_LEN characters exists, else None.

    Confirmations (joined by '+', in KINDS order): rapid_ab (RapidOCR's passes agree), contour or
    sequence (that reader of ours equals either RapidOCR pass). Two different confirmed texts: None.
    """
    a, b, c, s = clean(rapid_a), clean(rapid_b), clean(contour), clean(sequence)
    votes: dict[str, list[str]] = {}
    if a and a == b:
        votes.setdefault(a, []).append("rapid_ab")
    for kind, ours in (("contour", c), ("sequence", s)):
        if ours and ours in (a, b):
            votes.setdefault(ours, []).append(kind)
    if len(votes) != 1:
        return None
    ((text, kinds),) = votes.items()
    return (text, "+".join(kinds)) if MIN_LEN <= len(text) <= MAX_LEN else None


def join_lines(result: Sequence[Any] | None) -> tuple[str, float]:
    """RapidOCR's [box, text, score] lines joined in reading order (rows top to bottom, each left to
    right), cleaned; with the lines' mean score weighted by their cleaned length (0 when empty)."""
    if not result:
        return "", 0.0
    items = []
    for box, text, score in result:
        pts = np.asarray(box, dtype=np.float32)
        y, x, h = float(pts[:, 1].mean()), float(pts[:, 0].min()), float(np.ptp(pts[:, 1]))
        items.append((y, x, h, clean(text), float(score)))
    half = 0.5 * float(np.median([h for _, _, h, _, _ in items]))
    rows: list[list[tuple[float, float, float, str, float]]] = []
    for it in sorted(items):
        if rows and it[0] - float(np.mean([r[0] for r in rows[-1]])) <= half:
            rows[-1].append(it)
        else:
            rows.append([it])
    ordered = [it for row in rows for it in sorted(row, key=lambda r: r[1])]
    text = "".join(it[3] for it in ordered)
    weight = sum(len(it[3]) for it in ordered)
    conf = sum(len(it[3]) * float(it[4]) for it in ordered) / weight if weight else 0.0
    return text, conf


def second_view(crop: np.ndarray) -> np.ndarray:
    """Pass (b): grey, scaled to VIEW_H px high (cubic up, area down), CLAHE, back to 3 channels."""
    import cv2

    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    size = (max(1, round(w * VIEW_H / h)), VIEW_H)
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC if h < VIEW_H else cv2.INTER_AREA)
    grey = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(grey)
    return np.asarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))


@dataclass(frozen=True)
class Box:
    set: str
    stem: str
    k: int
    image: Path
    xywh: tuple[int, int, int, int]

    @property
    def name(self) -> str:
        return f"{self.set}__{self.stem}__{self.k}.png"


def boxes(scenes: Path, name: str, limit: int = 0) -> Iterator[Box]:
    """Every box of one set, in sorted file order (`limit`: the first that many images only)."""
    labels = sorted((scenes / name / "labels").glob("*.txt"))
    for lab in labels[:limit] if limit else labels:
        lines = [ln.split() for ln in lab.read_text(encoding="utf-8").splitlines() if ln.strip()]
        for k, v in enumerate(lines):
            x, y, w, h = (int(float(t)) for t in v[:4])
            yield Box(name, lab.stem, k, scenes / name / "images" / f"{lab.stem}.jpg", (x, y, w, h))


def crop_of(image: np.ndarray, xywh: tuple[int, int, int, int]) -> np.ndarray | None:
    """The box with MARGIN x its height each side, clipped to the image; None when the box is too small."""
    x, y, w, h = xywh
    if h < MIN_H or w < MIN_W:
        return None
    m = round(MARGIN * h)
    H, W = image.shape[:2]
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + h + m)
    if x1 - x0 < MIN_W or y1 - y0 < MIN_H:
        return None
    return image[y0:y1, x0:x1].copy()


Read = Callable[[np.ndarray], str]


def readers() -> tuple[Callable[[np.ndarray], tuple[str, float]], Read, Read]:
    """RapidOCR (one thread) and our contour and sequence readers, each reading one crop."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    from edge_ocr import Reader

    cv2.setNumThreads(1)
    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, det_limit_side_len=DET_SIDE)
    contour = Reader(region="auto", reader="contour", threads=1)
    sequence = Reader(region="auto", reader="sequence", threads=1)

    def rapid(img: np.ndarray) -> tuple[str, float]:
        return join_lines(engine(img)[0])

    def ours(reader: Any) -> Read:
        def read(img: np.ndarray) -> str:
            r = reader.read_crop(img)
            return clean(r.plate) if r is not None else ""

        return read

    return rapid, ours(contour), ours(sequence)


def run(data: Path, out: Path, limit: int = 0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Label every box of SETS under data/scenes; write OUT (see the module docstring); the summary."""
    import cv2
    from tqdm import tqdm

    rapid, contour, sequence = readers()
    (out / "crops").mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    summary: dict[str, Any] = {"det_limit_side_len": DET_SIDE, "sets": {}}
    t_all, grand = time.perf_counter(), Counter[str]()
    for name in SETS:
        t0 = time.perf_counter()
        todo = list(boxes(data / "scenes", name, limit))
        n: Counter[str] = Counter(boxes=len(todo))
        path, img = None, None
        for b in tqdm(todo, desc=name, unit="box", mininterval=5.0):
            if b.image != path:  # a photo's boxes are consecutive
                path, img = b.image, cv2.imread(str(b.image), cv2.IMREAD_COLOR)
            crop = crop_of(img, b.xywh) if img is not None else None
            row = dict.fromkeys(COLUMNS, "") | {"file": b.name, "set": name}
            if crop is None:
                rows.append(row | {"agree": "skipped"})
                continue
            n["cropped"] += 1
            cv2.imwrite(str(out / "crops" / b.name), crop)
            (a, conf_a), (bb, conf_b) = rapid(crop), rapid(second_view(crop))
            c, s = contour(crop), sequence(crop)
            kept = keep_label(a, bb, c, s)
            conf = conf_b if kept is not None and kept[0] != a else conf_a
            row |= {"rapid_a": a, "rapid_b": bb, "contour": c, "sequence": s, "rapid_conf": f"{conf:.3f}"}
            if kept is not None:
                row |= {"plate": kept[0], "agree": kept[1]}
                n["kept"] += 1
                n[f"agree:{kept[1]}"] += 1
                for kind in kept[1].split("+"):
                    n[f"by:{kind}"] += 1
            rows.append(row)
        grand.update(n)
        summary["sets"][name] = _counts(n, time.perf_counter() - t0)
        log(f"pseudo {name}: {json.dumps(summary['sets'][name])}")
    summary["total"] = _counts(grand, time.perf_counter() - t_all)
    _write_csv(out / "all.csv", rows)
    _write_csv(out / "labels.csv", [r for r in rows if r["plate"]])
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    log(f"pseudo total: {json.dumps(summary['total'])}")
    return summary


def _counts(n: Counter[str], seconds: float) -> dict[str, Any]:
    return {
        "boxes": n["boxes"],
        "cropped": n["cropped"],
        "kept": n["kept"],
        "kept_by": {k: n[f"by:{k}"] for k in KINDS},
        "agree": {k[6:]: v for k, v in sorted(n.items()) if k.startswith("agree:")},
        "seconds": round(seconds, 1),
    }


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
