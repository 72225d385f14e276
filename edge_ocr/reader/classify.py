"""Classify the characters of one plate with one backend call.

All boxes of a plate (or of several segmentation hypotheses) go through the model as a single batch:
per-call overhead dominates at these tiny input sizes, so batching is the cheap way to be fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_ocr.backends.base import InferenceBackend
from edge_ocr.models import ModelSpec
from edge_ocr.preprocess import batch_inputs, to_gray
from edge_ocr.types import Box, CharBox, CharPrediction


def pad_box(box: Box, shape: tuple[int, ...], frac: float = 0.08) -> Box:
    """Grow a char box a little (the preprocessing tightens to the ink again) and clip to the image."""
    p = max(1, round(frac * box.h))
    x1, y1 = max(0, box.x - p), max(0, box.y - p)
    x2, y2 = min(int(shape[1]), box.x2 + p), min(int(shape[0]), box.y2 + p)
    return Box(x1, y1, max(0, x2 - x1), max(0, y2 - y1))


class CharClassifier:
    """Model + labels + the preprocessing recorded in the model card."""

    def __init__(self, spec: ModelSpec, backend: InferenceBackend, topk: int = 3) -> None:
        self.spec = spec
        self.backend = backend
        self.labels = spec.labels
        self.topk = max(1, min(topk, len(spec.labels)))

    def scores(self, crop: np.ndarray, boxes: Sequence[CharBox]) -> np.ndarray:
        """Class probabilities (N, C) for the boxes of one grey plate crop, in input order.

        Boxes are grouped by polarity because `batch_inputs` takes one polarity per call; the model
        itself still runs once.
        """
        gray = to_gray(crop)
        if not boxes:
            return np.zeros((0, len(self.labels)), np.float32)
        batch = np.zeros((len(boxes), *self.spec.input_shape[1:]), np.float32)
        for polarity in (True, False):
            idx = [i for i, b in enumerate(boxes) if b.dark_on_light == polarity]
            if not idx:
                continue
            crops = []
            for i in idx:
                b = pad_box(boxes[i].box, gray.shape)
                crops.append(gray[b.y : b.y2, b.x : b.x2])
            batch[idx] = batch_inputs(crops, self.spec.preprocess, polarity)
        return self.backend.run(batch)

    def predictions(self, boxes: Sequence[CharBox], probs: np.ndarray) -> list[CharPrediction]:
        """Turn rows of probabilities into CharPredictions with the top-k alternatives."""
        out = []
        for b, p in zip(boxes, probs, strict=True):
            order = np.argsort(-p)[: self.topk]
            topk = tuple((self.labels[int(i)], float(p[int(i)])) for i in order)
            out.append(CharPrediction(topk[0][0], topk[0][1], b.box, topk, b.row))
        return out

    def classify(self, crop: np.ndarray, boxes: Sequence[CharBox]) -> list[CharPrediction]:
        return self.predictions(boxes, self.scores(crop, boxes))
