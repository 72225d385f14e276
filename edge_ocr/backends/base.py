"""The one interface every inference runtime sits behind.

Callers (classify.py, later detect.py) hand in float32 NHWC batches and get float32 scores back;
whether the model file is float or int8 is the backend's business, so the quantization arithmetic
lives here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

# Rows per inference call: larger inputs run in chunks (litert.py says why: an arena that grows with
# the largest batch ever seen grows at any hour of a long run).
MAX_BATCH = 32


def in_chunks(run: Callable[[np.ndarray], np.ndarray], x: np.ndarray, step: int) -> np.ndarray:
    """`run` over consecutive slices of `step` rows of `x`, concatenated."""
    return np.concatenate([run(x[i : i + step]) for i in range(0, x.shape[0], step)])


@dataclass(frozen=True)
class QuantParams:
    """Affine int8 quantization of one tensor: real = scale * (q - zero_point).

    A scale of 0 means "not quantized" (TFLite reports (0.0, 0) for float tensors).
    """

    scale: float = 0.0
    zero_point: int = 0

    @property
    def active(self) -> bool:
        return self.scale > 0.0


def quantize(x: np.ndarray, qp: QuantParams, dtype: type[np.integer]) -> np.ndarray:
    """float32 -> int8/uint8: q = clip(round(x / scale) + zero_point, dtype range).

    Rounding half to even (np.rint) matches what the TFLite converter assumed when it calibrated.
    """
    info = np.iinfo(dtype)
    q = np.rint(x / qp.scale) + qp.zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, qp: QuantParams) -> np.ndarray:
    """int8/uint8 -> float32: x = scale * (q - zero_point), computed in int32 to avoid wrap-around."""
    return (qp.scale * (q.astype(np.int32) - qp.zero_point)).astype(np.float32)


class InferenceBackend(Protocol):
    """Run a classification model: x float32 (N, H, W, C) -> scores float32 (N, num_classes)."""

    name: str
    path: Path
    max_batch: int  # rows per run at most; larger inputs run in chunks

    @property
    def output_size(self) -> int: ...

    @property
    def input_hwc(self) -> tuple[int, int, int]: ...

    def run(self, x: np.ndarray) -> np.ndarray: ...
