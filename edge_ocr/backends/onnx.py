"""ONNX models through ONNX Runtime (QDQ int8 or float; both take and return float32)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge_ocr.backends.base import MAX_BATCH, in_chunks
from edge_ocr.errors import ModelError


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxBackend:
    """QDQ int8 ONNX keeps float32 at its boundary: (de)quantization nodes sit inside the graph,
    so no arithmetic is needed here, unlike the int8-in/int8-out TFLite file. Like the LiteRT backend,
    at most `max_batch` rows per run, and the first run of more than one sizes the session's memory
    for `max_batch` (ONNX Runtime's arena also keeps its largest size)."""

    name = "onnx"

    def __init__(self, path: Path, threads: int = 1, max_batch: int = MAX_BATCH) -> None:
        self.path = Path(path)
        self.max_batch = max(1, int(max_batch))
        self._sized = False
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ModelError("onnxruntime is not installed (pip install onnxruntime)") from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._sess: Any = ort.InferenceSession(
                str(self.path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own untyped exceptions
            raise ModelError(f"{self.path}: cannot load ONNX model: {e}") from e
        inp = self._sess.get_inputs()[0]
        out = self._sess.get_outputs()[0]
        self._in_name, self._out_name = inp.name, out.name
        shape = list(inp.shape)
        if len(shape) != 4 or not all(isinstance(v, int) for v in shape[1:]):
            raise ModelError(f"{self.path}: expected an NHWC input with fixed H, W, C, got {shape}")
        self._hwc = (int(shape[1]), int(shape[2]), int(shape[3]))
        last = out.shape[-1]
        if not isinstance(last, int):
            raise ModelError(f"{self.path}: output size is not fixed: {out.shape}")
        self._n_out = int(last)
        self._fixed_batch = shape[0] if isinstance(shape[0], int) else None

    @property
    def output_size(self) -> int:
        return self._n_out

    @property
    def input_hwc(self) -> tuple[int, int, int]:
        return self._hwc

    def run(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        n = int(x.shape[0])
        if n == 0:
            return np.zeros((0, self._n_out), np.float32)
        if self._fixed_batch is not None and n != self._fixed_batch:
            # A model exported with a fixed batch of 1: loop rather than fail.
            return in_chunks(self.run, x, 1)
        if n > self.max_batch:
            return in_chunks(self.run, x, self.max_batch)
        if n > 1 and self._fixed_batch is None and not self._sized:
            self._sized = True
            self._sess.run(
                [self._out_name], {self._in_name: np.zeros((self.max_batch, *self._hwc), np.float32)}
            )
        y = self._sess.run([self._out_name], {self._in_name: x})[0]
        return np.asarray(y, dtype=np.float32).reshape(x.shape[0], -1)
