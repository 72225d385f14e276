"""Find vn-char-boxes images whose boxes are misaligned with the glyphs, for convert/vn_misaligned.txt.

About one image in eight of that set carries boxes shifted or scaled against the picture, so each box
holds a neighbouring glyph (or half of two) under the wrong label. Misalignment is a property of the
whole image, so whole images are judged: one is listed when a reference classifier disagrees with at
least `threshold` of its box labels. A good image of a plate rarely loses a third of its characters
to classifier error, while a shifted one loses nearly all; samples at every score were checked by eye.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convert.verify import run_file
from edge_ocr.bench.datasets import load_vn_char_boxes
from edge_ocr.preprocess import PreprocessSpec, batch_inputs
from edge_ocr.types import PLATE_LABELS

HEADER = """# plates/vn-char-boxes images whose character boxes are misaligned with the glyphs (shifted or scaled
# relative to the image: the label belongs to a neighbouring character). Found by `python -m convert clean`:
# an image is listed when a reference plate-char classifier disagrees with >= 34 % of its box labels;
# samples at every level of that score were checked by eye and were misaligned. Dropped from train AND test.
"""


def image_disagreement(model_file: Path, root: Path | None, spec: PreprocessSpec) -> dict[str, float]:
    """Fraction of each image's boxes whose label the model does not predict (image stem -> fraction)."""
    samples = load_vn_char_boxes(root)
    x = batch_inputs([s.image for s in samples], spec, dark_on_light=True)
    pred = run_file(model_file, x).argmax(1)
    wrong: dict[str, list[bool]] = {}
    for s, p in zip(samples, pred, strict=True):
        wrong.setdefault(s.origin, []).append(PLATE_LABELS[p] != s.label)
    return {k: float(np.mean(v)) for k, v in wrong.items()}


def write_list(scores: dict[str, float], path: Path, threshold: float = 0.34) -> list[str]:
    bad = sorted(k for k, v in scores.items() if v >= threshold)
    path.write_text(HEADER + "\n".join(bad) + "\n")
    return bad
