"""Sample photos and crops with ground truth, for the README demo and for benchmarks without data.

Layouts match the real benchmarks so the same loaders read them: scenes as NAME.jpg + NAME.txt
(`NAME.jpg<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE`, one line per plate, OpenALPR endtoend), crops as
crops/NAME.png + crops/groundtruth.csv (`file,state,PLATE`, OpenALPR seg_and_ocr), and all of it
again in truth.tsv (`file<TAB>plate<TAB>x<TAB>y<TAB>w<TAB>h<TAB>style`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.errors import EdgeOcrError
from edge_ocr.synth.plate import render_plate
from edge_ocr.synth.scene import render_scene
from edge_ocr.synth.styles import random_plate_text


@dataclass(frozen=True)
class SampleSet:
    scenes: tuple[Path, ...]
    crops: tuple[Path, ...]
    truth: Path


def _write(path: Path, img: np.ndarray, params: list[int] | None = None) -> None:
    if not cv2.imwrite(str(path), img, params or []):
        raise EdgeOcrError(f"cannot write {path}")


def write_samples(
    outdir: str | Path, n: int = 6, seed: int = 0, styles: Sequence[str] = ("us",), crops: bool = True
) -> SampleSet:
    """Write `n` 1280x720 scenes with one clear, realistic-size plate each, plus plate crops."""
    out = Path(outdir)
    (out / "crops").mkdir(parents=True, exist_ok=True)
    scenes, crop_paths, truth, csv = [], [], [], ["file,state,plate"]
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        style = styles[i % len(styles)]
        text = random_plate_text(style, rng)
        plate = render_plate(text, rng, style=style, height=int(rng.integers(110, 140)), dark_on_light=True)
        scene = render_scene([plate], rng, augmented=True)
        sp = scene.plates[0]
        name = f"sample_{i:03d}"
        _write(out / f"{name}.jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        b = sp.box
        (out / f"{name}.txt").write_text(f"{name}.jpg\t{b.x}\t{b.y}\t{b.w}\t{b.h}\t{sp.text}\n")
        truth.append(f"{name}.jpg\t{sp.text}\t{b.x}\t{b.y}\t{b.w}\t{b.h}\t{style}")
        scenes.append(out / f"{name}.jpg")
        if crops:
            crop_rng = np.random.default_rng([seed, i, 1])
            crop = render_plate(text, crop_rng, style=style, height=100, augmented=True, dark_on_light=True)
            _write(out / "crops" / f"{name}.png", crop.image)
            csv.append(f"{name}.png,{style},{crop.text}")
            crop_paths.append(out / "crops" / f"{name}.png")
    (out / "crops" / "groundtruth.csv").write_text("\n".join(csv) + "\n")
    (out / "truth.tsv").write_text("file\tplate\tx\ty\tw\th\tstyle\n" + "\n".join(truth) + "\n")
    return SampleSet(tuple(scenes), tuple(crop_paths), out / "truth.tsv")
