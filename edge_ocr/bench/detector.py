"""Plate detector evaluation: recall of the first and of any proposal, precision, false proposals per
plate-free frame, detect time, and a precision-recall plot.

Proposals are collected once per photo at a low score floor; every threshold is then judged from the
same records, which is what lets the threshold be chosen on the held-out training photos and merely
reported on bench/ and the evaluation-only sets. numpy + OpenCV only, like the device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.reader.detect.cnn import iou_matrix

Runner = Callable[[np.ndarray], np.ndarray]  # BGR frame -> (N, 5) [x, y, w, h, score], best first
FLOOR = 0.05  # proposals below this score are not even recorded
IMAGE_EXT = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Record:
    """One photo: its proposals (N, 5) in frame pixels and its plates (M, 4)."""

    name: str
    props: np.ndarray
    gt: np.ndarray
    wall_ms: float
    cpu_ms: float


@dataclass(frozen=True)
class Summary:
    threshold: float
    images: int
    plates: int
    first_recall: float  # photos with plates whose first proposal has IoU >= 0.5 with a plate
    any_recall: float  # plates met by some proposal
    precision: float
    false_per_frame: float
    wall_ms_median: float
    wall_ms_p90: float
    cpu_ms_median: float
    cpu_ms_p90: float


def scene_items(folder: Path) -> Iterator[tuple[str, Path, np.ndarray]]:
    """<set>/images/*.jpg + <set>/labels/*.txt (x y w h per line); a folder without labels is plate-free."""
    images = folder / "images" if (folder / "images").is_dir() else folder
    for p in sorted(images.iterdir()):
        if p.suffix.lower() not in IMAGE_EXT:
            continue
        rows: list[list[float]] = []
        lab = folder / "labels" / f"{p.stem}.txt"
        if lab.exists():
            rows = [[float(v) for v in ln.split()[:4]] for ln in lab.read_text().splitlines() if len(ln.split()) >= 4]
        yield p.name, p, np.array(rows, np.float32).reshape(-1, 4)


def endtoend_items(folder: Path) -> Iterator[tuple[str, Path, np.ndarray]]:
    """openalpr benchmark layout: NAME.jpg + NAME.txt `NAME.jpg<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE`."""
    for t in sorted(folder.glob("*.txt")):
        rows = []
        for line in t.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 5:
                rows.append([float(v) for v in parts[1:5]])
        img = folder / (t.read_text().split("\t")[0].strip() or f"{t.stem}.jpg")
        yield img.name, img, np.array(rows, np.float32).reshape(-1, 4)


def items_for(folder: Path) -> Iterator[tuple[str, Path, np.ndarray]]:
    return endtoend_items(folder) if any(folder.glob("*.txt")) else scene_items(folder)


def collect(runner: Runner, items: Iterator[tuple[str, Path, np.ndarray]], grey: bool = False) -> list[Record]:
    """Run the detector on every photo (decode not timed), timing wall and CPU per detect call;
    `grey`: the photo as a camera's luma plane (picamera2's lores stream is Y only)."""
    out = []
    for name, path, gt in items:
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
        if img is None:
            continue
        w0, c0 = time.perf_counter(), time.process_time()
        props = runner(img)
        w1, c1 = time.perf_counter(), time.process_time()
        out.append(Record(name, props, gt, (w1 - w0) * 1e3, (c1 - c0) * 1e3))
    return out


def _match(props: np.ndarray, gt: np.ndarray, iou: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching in score order: (true-positive flag per proposal, hit per plate)."""
    tp = np.zeros(len(props), bool)
    hit = np.zeros(len(gt), bool)
    if len(props) and len(gt):
        m = iou_matrix(props, gt)
        for i in range(len(props)):
            cand = np.where(~hit & (m[i] >= iou))[0]
            if cand.size:
                hit[cand[np.argmax(m[i, cand])]] = True
                tp[i] = True
    return tp, hit


def summarize(records: list[Record], threshold: float, iou: float = 0.5) -> Summary:
    n_first = n_img = n_tp = n_prop = n_fp = n_hit = n_gt = 0
    for r in records:
        props = r.props[r.props[:, 4] >= threshold]
        tp, hit = _match(props, r.gt, iou)
        n_prop, n_tp, n_fp = n_prop + len(props), n_tp + int(tp.sum()), n_fp + int((~tp).sum())
        n_gt, n_hit = n_gt + len(r.gt), n_hit + int(hit.sum())
        if len(r.gt):
            n_img += 1
            n_first += int(len(props) > 0 and iou_matrix(props[:1], r.gt).max() >= iou)
    wall = [r.wall_ms for r in records] or [0.0]
    cpu = [r.cpu_ms for r in records] or [0.0]
    return Summary(
        threshold,
        len(records),
        n_gt,
        n_first / max(1, n_img),
        n_hit / max(1, n_gt),
        n_tp / max(1, n_prop),
        n_fp / max(1, len(records)),
        statistics.median(wall),
        float(np.percentile(wall, 90)),
        statistics.median(cpu),
        float(np.percentile(cpu, 90)),
    )


#: plate widths in the photo's own pixels, where the reader cuts its crop: under about 60 px a plate's
#: characters are 5-7 px wide and rarely read, so a recall that counts them says little about reads.
WIDTH_BINS = (0, 40, 60, 90, 140, 100000)


def recall_by_width(records: list[Record], threshold: float, iou: float = 0.5) -> list[dict[str, float]]:
    """Any-proposal recall per plate width bin (photo pixels): which plates a detector loses."""
    w, hit = [], []
    for r in records:
        _, h = _match(r.props[r.props[:, 4] >= threshold], r.gt, iou)
        w += r.gt[:, 2].tolist()
        hit += h.tolist()
    wa, ha = np.array(w), np.array(hit, bool)
    out = []
    for lo, hi in zip(WIDTH_BINS[:-1], WIDTH_BINS[1:], strict=True):
        m = (wa >= lo) & (wa < hi)
        out.append({"min_px": lo, "max_px": hi, "plates": int(m.sum()), "recall": float(ha[m].mean()) if m.any() else 0.0})
    return out


def choose_threshold(records: list[Record], grid: np.ndarray | None = None) -> float:
    """The threshold with the best F1 of any-proposal recall and precision (held-out training photos)."""
    grid = np.round(np.arange(FLOOR, 0.96, 0.025), 3) if grid is None else grid
    best, best_f = float(grid[0]), -1.0
    for t in grid:
        s = summarize(records, float(t))
        f = 2 * s.any_recall * s.precision / max(1e-9, s.any_recall + s.precision)
        if f > best_f:
            best, best_f = float(t), f
    return best


def pr_curve(records: list[Record]) -> np.ndarray:
    """Rows [threshold, any recall, precision, first recall, false per frame] over a threshold grid."""
    rows = []
    for t in np.round(np.arange(FLOOR, 0.96, 0.025), 3):
        s = summarize(records, float(t))
        rows.append([t, s.any_recall, s.precision, s.first_recall, s.false_per_frame])
    return np.array(rows, np.float32)


def plot_pr(curves: dict[str, np.ndarray], path: Path, threshold: float) -> None:
    """Precision-recall per set, the chosen threshold marked; matplotlib (Agg) when available."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    for name, c in curves.items():
        ax.plot(c[:, 1], c[:, 2], label=name)
        k = int(np.argmin(np.abs(c[:, 0] - threshold)))
        ax.plot(c[k, 1], c[k, 2], "ko", ms=4)
    ax.set_xlabel("recall (any proposal, IoU >= 0.5)")
    ax.set_ylabel("precision")
    ax.set_title(f"plate detector; dots: threshold {threshold:.3f}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def cnn_runner(model: Path, backend: str, fmt: str) -> tuple[Runner, float]:
    """A runner over CnnDetector (one thread) recording everything above FLOOR, and the card threshold."""
    from edge_ocr.reader.detect.cnn import CnnDetector

    det = CnnDetector(model, backend=backend, fmt=fmt, threads=1)

    def run(img: np.ndarray) -> np.ndarray:
        props = det.propose(img, threshold=FLOOR)
        return np.array([[p.x, p.y, p.w, p.h, p.score] for p in props], np.float32).reshape(-1, 5)

    return run, det.params.threshold


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="evaluate the CNN plate detector on scene folders")
    ap.add_argument("folders", nargs="+", type=Path, help="scenes/<set>, bench/endtoend-us or negatives")
    ap.add_argument("--model", type=Path, default=Path("models/plate-detector"))
    ap.add_argument("--backend", default="tflite", choices=("tflite", "onnx"))
    ap.add_argument("--format", dest="fmt", default="int8", choices=("int8", "float"))
    ap.add_argument("--threshold", type=float, default=None, help="default: the card's")
    ap.add_argument("--plot", type=Path, default=None, help="precision-recall PNG")
    ap.add_argument("--grey", action="store_true", help="feed grey photos (a camera's Y plane, as picamera2's lores)")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)  # one core: the figure the issue asks for is CPU time on one thread
    runner, card_t = cnn_runner(args.model, args.backend, args.fmt)
    t = card_t if args.threshold is None else args.threshold
    curves = {}
    for folder in args.folders:
        recs = collect(runner, items_for(folder), args.grey)
        print(json.dumps({"set": str(folder), **asdict(summarize(recs, t))}))
        if any(len(r.gt) for r in recs):
            print(json.dumps({"set": str(folder), "recall_by_plate_width_px": recall_by_width(recs, t)}))
        curves[folder.name] = pr_curve(recs)
    if args.plot:
        plot_pr(curves, args.plot, t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
