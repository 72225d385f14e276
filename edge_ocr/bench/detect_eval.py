"""Measure a plate detector: recall@k at IoU >= 0.3, proposals on plate-free frames, latency.

Development data are composites: real plate crops (plates/br-crops, plates/vn-char-boxes) pasted
with random scale, perspective and lighting into plate-free frames (negatives/), so the true
box is known. bench/endtoend-us is only measured, never tuned on.

    PYTHONPATH=. python -m edge_ocr.bench.detect_eval composite --n 200
    PYTHONPATH=. python -m edge_ocr.bench.detect_eval synth --n 100 --style us
    PYTHONPATH=. python -m edge_ocr.bench.detect_eval bench
    PYTHONPATH=. python -m edge_ocr.bench.detect_eval negatives
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from edge_ocr.errors import SourceError
from edge_ocr.paths import data_root
from edge_ocr.reader.detect import PlateDetector, make_detector
from edge_ocr.types import Box

KS = (1, 3, 5, 8)


@dataclass(frozen=True)
class Scene:
    name: str
    image: np.ndarray
    box: Box | None


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})


def _imread(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SourceError(f"{path}: cannot read image")
    return np.asarray(img)


def composite(frame: np.ndarray, plate: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """Paste `plate` into a 1280x720 copy of `frame` with a random pose; returns image and box."""
    bg = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_AREA)
    ph, pw = plate.shape[:2]
    width = float(np.exp(rng.uniform(np.log(55), np.log(300))))
    s = width / pw
    w, h = pw * s, ph * s
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    base = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    base += rng.normal(0, 0.04 * h, size=(4, 2)).astype(np.float32)  # perspective
    ang = np.deg2rad(rng.uniform(-8, 8))
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], dtype=np.float32)
    pts = base @ rot.T
    pts -= pts.min(axis=0)
    span = pts.max(axis=0)
    off = np.array([rng.uniform(0, 1280 - span[0] - 1), rng.uniform(0, 720 - span[1] - 1)], dtype=np.float32)
    dst = pts + off
    m = cv2.getPerspectiveTransform(src, dst)
    gain, bias = rng.uniform(0.6, 1.2), rng.uniform(-30, 30)
    pl = np.clip(plate.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    warped = cv2.warpPerspective(pl, m, (1280, 720))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (1280, 720))
    out = np.where(mask[..., None] > 127, warped, bg)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.3))
    out = np.clip(out + rng.normal(0, rng.uniform(1, 6), out.shape), 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
    x0, y0 = dst.min(axis=0)
    x1, y1 = dst.max(axis=0)
    return np.asarray(cv2.imdecode(enc, cv2.IMREAD_COLOR)), Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def composite_scenes(root: Path, n: int, seed: int) -> Iterator[Scene]:
    rng = np.random.default_rng(seed)
    negs = _images(root / "negatives")
    plates = _images(root / "plates" / "br-crops") + _images(root / "plates" / "vn-char-boxes" / "images")
    for i in range(n):
        frame = _imread(negs[rng.integers(len(negs))])
        plate_path = plates[rng.integers(len(plates))]
        plate = _imread(plate_path)
        img, box = composite(frame, plate, rng)
        yield Scene(f"{i}:{plate_path.name}", img, box)


def synth_scenes(root: Path, n: int, seed: int, style: str = "us") -> Iterator[Scene]:
    """Rendered plates (edge_ocr.synth) on rendered cars, or on real plate-free frames."""
    from edge_ocr.synth.scene import random_scene

    rng = np.random.default_rng(seed)
    negs = _images(root / "negatives")
    for i in range(n):
        bg = _imread(negs[rng.integers(len(negs))]) if i % 2 else None
        sc = random_scene(rng, style=style, background=bg)
        yield Scene(f"{i}:{sc.plates[0].text}", sc.image, sc.plates[0].box)


def bench_scenes(folder: Path) -> Iterator[Scene]:
    for txt in sorted(folder.glob("*.txt")):
        f = txt.read_text().split()
        img = _imread(folder / f[0])
        yield Scene(f[0], img, Box(int(f[1]), int(f[2]), int(f[3]), int(f[4])))


def negative_scenes(folder: Path) -> Iterator[Scene]:
    for p in _images(folder):
        yield Scene(p.name, _imread(p), None)


def evaluate(det: PlateDetector, scenes: Iterator[Scene], total: int, iou: float = 0.3) -> dict[str, object]:
    """recall@k (first proposal with IoU >= iou within the top k), proposals per frame, ms."""
    hits = {k: 0 for k in KS}
    ms: list[float] = []
    cpu: list[float] = []
    counts: list[int] = []
    misses: list[str] = []
    n = 0
    for sc in tqdm(scenes, total=total, leave=False):
        t0, c0 = time.perf_counter(), time.process_time()
        regions = det.detect(sc.image)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        counts.append(len(regions))
        if sc.box is None:
            continue
        n += 1
        rank = next((i for i, r in enumerate(regions) if r.box.iou(sc.box) >= iou), None)
        for k in KS:
            hits[k] += rank is not None and rank < k
        if rank is None or rank >= 8:
            misses.append(sc.name)
    res: dict[str, object] = {
        "images": len(ms),
        "ms_median": round(float(np.median(ms)), 1),
        "ms_p90": round(float(np.percentile(ms, 90)), 1),
        "cpu_ms_median": round(float(np.median(cpu)), 1),
        "cpu_ms_p90": round(float(np.percentile(cpu, 90)), 1),
        "proposals_mean": round(float(np.mean(counts)), 2),
    }
    if n:
        res.update({f"recall@{k}": round(hits[k] / n, 3) for k in KS})
        res["misses"] = misses
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edge_ocr.bench.detect_eval")
    ap.add_argument("what", choices=["composite", "synth", "bench", "negatives"])
    ap.add_argument("--style", default="us", help="plate style of the synth scenes")
    ap.add_argument("--data", default=None)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--detector", default="auto")
    ap.add_argument("--show-misses", action="store_true")
    a = ap.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root(a.data)
    det = make_detector(a.detector)
    if a.what == "composite":
        res = evaluate(det, composite_scenes(root, a.n, a.seed), a.n)
    elif a.what == "synth":
        res = evaluate(det, synth_scenes(root, a.n, a.seed, a.style), a.n)
    elif a.what == "bench":
        folder = root / "bench" / "endtoend-us"
        res = evaluate(det, bench_scenes(folder), len(list(folder.glob("*.txt"))))
    else:
        folder = root / "negatives"
        res = evaluate(det, negative_scenes(folder), len(_images(folder)))
    if not a.show_misses:
        res.pop("misses", None)
    json.dump(res, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
