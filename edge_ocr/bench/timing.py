"""Timing helpers: a monotonic clock in milliseconds, and a backend timed at a fixed batch size."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from edge_ocr.backends.base import InferenceBackend
from edge_ocr.bench.metrics import LatencyStats, latency_stats


def now_ms() -> float:
    return time.perf_counter_ns() / 1e6


def time_backend(
    backend: InferenceBackend, x: np.ndarray, batch: int, warmup: int, repeat: int, max_calls: int = 200
) -> LatencyStats:
    """Per-character latency (ms) of `backend.run` on consecutive batches of `batch` inputs.

    Warm-up calls (allocation, tensor resizing, caches) are run first and not counted.
    """
    starts = list(range(0, max(0, len(x) - batch + 1), batch))[:max_calls]
    if not starts:
        return latency_stats([])
    for i in range(warmup):
        s = starts[i % len(starts)]
        backend.run(x[s : s + batch])
    times = []
    for _ in range(max(1, repeat)):
        for s in starts:
            t0 = now_ms()
            backend.run(x[s : s + batch])
            times.append((now_ms() - t0) / batch)
    return latency_stats(times)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    t0 = now_ms()
    out = fn()
    return out, now_ms() - t0
