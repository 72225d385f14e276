"""Does fusion help on whole photos? Held-out photos made from held-out crops, and plate-free frames.

    python -m edge_ocr.bench.fusion_photos --data ../shared/data --half 1 --json out.json

No held-out photo outside bench/ carries plate text, so the held-out photos are composites: each
held-out crop of us-nyc-crops and br-crops (the plate-seq split) is warped into a 1280x720 frame cut
from a plate-free photo of one half of negatives/ (md5(name) % 2, as convert/detector splits them: half
0 may be used to choose, half 1 only to report). The same half's plate-free frames count false plates.
Each reader (contour, fused) reads every frame through Reader.read_frame with today's detector; the
figures are first read exact (the top read is the plate) and reads per plate-free frame.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_ocr.bench.fusion_cal import br_heldout
from edge_ocr.bench.scene_split import negatives
from edge_ocr.bench.sequence import Crop, us_nyc_heldout

SIZE = (1280, 720)


def _cover(bg: np.ndarray) -> np.ndarray:
    """Resize and centre-crop a background to SIZE."""
    h, w = bg.shape[:2]
    s = max(SIZE[0] / w, SIZE[1] / h)
    big = cv2.resize(bg, (int(w * s) + 1, int(h * s) + 1))
    y, x = (big.shape[0] - SIZE[1]) // 2, (big.shape[1] - SIZE[0]) // 2
    return np.ascontiguousarray(big[y : y + SIZE[1], x : x + SIZE[0]])


def composite(crop: np.ndarray, bg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`crop` warped (120-260 px wide, tilted a little) into a SIZE frame cut from `bg`."""
    frame = _cover(bg)
    ch, cw = crop.shape[:2]
    tw = float(rng.uniform(120, 260))
    th = tw * ch / cw
    x0, y0 = rng.uniform(0.15, 0.85) * SIZE[0] - tw / 2, rng.uniform(0.35, 0.85) * SIZE[1] - th / 2
    dst = np.array([[x0, y0], [x0 + tw, y0], [x0 + tw, y0 + th], [x0, y0 + th]], np.float32)
    dst += rng.uniform(-1, 1, (4, 2)).astype(np.float32) * np.array([0.03 * tw, 0.06 * th], np.float32)
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    return np.asarray(cv2.warpPerspective(crop, m, SIZE, dst=frame, borderMode=cv2.BORDER_TRANSPARENT))


def photo_set(data: Path, half: int, seed: int = 0) -> list[tuple[np.ndarray, str]]:
    bgs = negatives(data, half)
    rng = np.random.default_rng(seed + half)
    crops: list[Crop] = us_nyc_heldout(data) + br_heldout(data)
    out = []
    for i, c in enumerate(crops):
        img, bg = cv2.imread(str(c.path)), cv2.imread(str(bgs[i % len(bgs)]))
        if img is not None and bg is not None:
            out.append((composite(img, bg, rng), c.text))
    return out


def measure(reader: Any, photos: Sequence[tuple[np.ndarray, str]], negs: Sequence[Path]) -> dict[str, float]:
    hits = []
    for img, truth in photos:
        reads = reader.read_frame(img)
        hits.append(bool(reads) and reads[0].plate == truth)
    false = []
    for p in negs:
        neg = cv2.imread(str(p))
        if neg is not None:
            false.append(len(reader.read_frame(neg)))
    return {
        "photos": len(hits),
        "first_read_exact": float(np.mean(hits)),
        "negatives": len(false),
        "false_plates_per_frame": float(np.mean(false)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edge_ocr.bench.fusion_photos")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--half", type=int, default=1, choices=(0, 1), help="negatives half (0 choose, 1 report)")
    p.add_argument("--readers", default="contour,fused")
    p.add_argument("--rule", default="", help="weight,absent,keep for fused (default: the card's)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--any-length", action="store_true", help="fused: frames without the same-length rule")
    length.add_argument("--same-length", action="store_true", help="fused: frames with it, whatever the detector")
    p.add_argument("--every", type=int, default=1, help="every Nth photo and negative only (a quick check)")
    p.add_argument("--detector", default="auto", choices=("auto", "cnn", "lines"), help="plate detector (Reader's)")
    p.add_argument("--set", dest="photos", default="composites", choices=("composites", "swap"),
                   help="composites: held-out crops on plate-free frames of the half; swap: held-out scene photos "
                        "with their plate covered by a held-out us-nyc crop (swap_photos.py; --half picks negatives)")
    p.add_argument("--seeds", type=int, default=2, help="swap: crops per photo (about 84 photos a seed)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a reader parameter, as `edge-ocr read --set` (e.g. --param second_cut=always)")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    from edge_ocr import Reader
    from edge_ocr.reader.fusion import FusionParams
    from edge_ocr.reader.overrides import parse_sets

    overrides = parse_sets(a.param)

    step = max(1, a.every)
    if a.photos == "swap":
        from edge_ocr.bench import swap_photos

        photos = swap_photos.photo_set(a.data, seeds=a.seeds)[::step]
    else:
        photos = photo_set(a.data, a.half)[::step]
    negs = negatives(a.data, a.half)[::step]
    rule: dict[str, Any] = (
        dict(zip(("weight", "absent", "keep"), (float(v) for v in a.rule.split(",")), strict=True))
        if a.rule
        else {}
    )
    res: dict[str, Any] = {"half": a.half, "every": step, "detector": a.detector, "set": a.photos, "param": overrides,
                           "seeds": a.seeds}
    if a.json and a.json.is_file():  # a reader already measured on the same frames is kept
        old = json.loads(a.json.read_text())
        kept = old.get("half") == a.half and old.get("every") == step and old.get("detector", "auto") == a.detector \
            and old.get("set", "composites") == a.photos and old.get("param", {}) == overrides \
            and old.get("seeds", 2) == a.seeds
        res.update({k: v for k, v in old.items() if kept})
    res["rule"] = rule
    same = _same_length(a)
    for name in a.readers.split(","):
        params = FusionParams(reader=name, frame_same_length=same, **(rule if name == "fused" else {}))
        key = name + (f"-{'same' if same else 'any'}-length" if name == "fused" and same is not None else "")
        res[key] = measure(Reader(detector=a.detector, fusion=params, **overrides), photos, negs)
        print(key, json.dumps(res[key]), flush=True)
        if a.json:
            a.json.write_text(json.dumps(res, indent=1))
    return 0


def _same_length(a: argparse.Namespace) -> bool | None:
    """The same-length rule asked for on the command line; None: the reader's default for its detector."""
    return False if a.any_length else True if a.same_length else None


if __name__ == "__main__":
    raise SystemExit(main())
