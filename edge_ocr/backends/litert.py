"""TFLite models through LiteRT (ai_edge_litert), tflite_runtime or tensorflow.lite, in that order.

ai_edge_litert is the maintained runtime and the fastest here; the other two are only fallbacks for
machines that already have them (the device package never installs TensorFlow).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from edge_ocr.backends.base import MAX_BATCH, QuantParams, dequantize, in_chunks, quantize
from edge_ocr.errors import ModelError

_RUNTIMES = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter", "tensorflow.lite")


def interpreter_class() -> tuple[Any, str]:
    """The first importable Interpreter class and the module it came from."""
    for mod in _RUNTIMES:
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        cls = getattr(m, "Interpreter", None)
        if cls is not None:
            return cls, mod
    raise ModelError("no TFLite runtime found: install ai-edge-litert (pip install ai-edge-litert)")


def available() -> bool:
    try:
        interpreter_class()
    except ModelError:
        return False
    return True


class LiteRTBackend:
    """One interpreter, resized to the batch size on demand, at most `max_batch` rows per run.

    Measured here (int8 plate-chars, one thread, CPU time): batches of 10-18 characters of varying
    size cost 4.3 ms resized-and-run-once against 4.7 ms looping at batch 1 (8 chars: 2.3 vs 2.7 ms),
    reallocation included. tests/test_backends.py checks that both give the same scores.

    The interpreter's tensor arena only grows, to the largest batch it has run, and a record batch
    can fall at any hour (a 720p stream gave plate-chars batches of 1 to 33 in a minute). Measured
    (2,000 runs of random batches of 1-80 rows): malloc's heap in use rose +0.69 MiB by run 250 and
    +1.74 MiB by run 1,750, a step at each record; capped and sized at once, +0.02 MiB over all 2,000.
    So larger inputs run in chunks of `max_batch`, and the first run of more than one row sizes the
    arena for `max_batch` (a zero batch through it); a model only ever run one row at a time (the
    detector) never pays for the larger arena. (This was first taken for the cause of a 0.9 MiB step
    in a long daemon run; that was Python's interned-string table: daemon/memory.py settle_interned.)
    """

    name = "tflite"

    def __init__(self, path: Path, threads: int = 1, max_batch: int = MAX_BATCH) -> None:
        self.path = Path(path)
        self.max_batch = max(1, int(max_batch))
        self._sized = False
        cls, self.runtime = interpreter_class()
        try:
            self._interp = cls(model_path=str(self.path), num_threads=max(1, int(threads)))
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{self.path}: cannot load TFLite model: {e}") from e
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        self._in_index, self._out_index = inp["index"], out["index"]
        self._in_dtype = np.dtype(inp["dtype"])
        self._out_dtype = np.dtype(out["dtype"])
        # (scale, zero_point) as stored in the model file by the converter: the authority.
        self._in_q = QuantParams(float(inp["quantization"][0]), int(inp["quantization"][1]))
        self._out_q = QuantParams(float(out["quantization"][0]), int(out["quantization"][1]))
        shape = [int(v) for v in inp["shape"]]
        if len(shape) != 4:
            raise ModelError(f"{self.path}: expected an NHWC input, got shape {shape}")
        self._hwc = (shape[1], shape[2], shape[3])
        self._batch = shape[0]
        self._n_out = int(out["shape"][-1])

    @property
    def output_size(self) -> int:
        return self._n_out

    @property
    def input_hwc(self) -> tuple[int, int, int]:
        return self._hwc

    @property
    def input_quant(self) -> QuantParams:
        return self._in_q

    def _resize(self, n: int) -> None:
        if n != self._batch:
            self._interp.resize_tensor_input(self._in_index, [n, *self._hwc], strict=False)
            self._interp.allocate_tensors()
            self._batch = n

    def _size_arena(self) -> None:
        """Run a zero batch of `max_batch` once, so the arena reaches its final size now."""
        self._sized = True
        self._resize(self.max_batch)
        self._interp.set_tensor(self._in_index, np.zeros((self.max_batch, *self._hwc), self._in_dtype))
        self._interp.invoke()

    def run(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        n = int(x.shape[0])
        if n == 0:
            return np.zeros((0, self._n_out), np.float32)
        if n > self.max_batch:
            return in_chunks(self.run, x, self.max_batch)
        if n > 1 and not self._sized:
            self._size_arena()
        self._resize(n)
        if self._in_dtype in (np.dtype(np.int8), np.dtype(np.uint8)) and self._in_q.active:
            # int8 model: the float input in [0, 1] becomes q = round(x / s) + z, clipped to int8.
            feed = quantize(x, self._in_q, self._in_dtype.type)
        else:
            feed = x.astype(self._in_dtype)
        self._interp.set_tensor(self._in_index, feed)
        self._interp.invoke()
        y = self._interp.get_tensor(self._out_index)
        if self._out_q.active and self._out_dtype != np.dtype(np.float32):
            # int8 softmax output: p = s * (q - z); with s = 1/256, z = -128 this spans [0, 1).
            return dequantize(y, self._out_q)
        return np.asarray(y, dtype=np.float32)
