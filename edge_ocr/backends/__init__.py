"""Inference backends, picked by name from a small registry: LiteRT (litert.py: ai_edge_litert, then
tflite_runtime, then tensorflow.lite as fallbacks) and ONNX Runtime (onnx.py). Shared by every model
(plate characters, text mode, detector, sequence reader). May import edge_ocr.errors only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edge_ocr.backends import litert, onnx
from edge_ocr.backends.base import InferenceBackend, QuantParams, dequantize, quantize
from edge_ocr.errors import ConfigError

BackendFactory = Callable[[Path, int], InferenceBackend]

#: backend name -> (constructor, availability check, file extension in the model folder)
BACKENDS: dict[str, tuple[BackendFactory, Callable[[], bool], str]] = {
    "tflite": (litert.LiteRTBackend, litert.available, "tflite"),
    "onnx": (onnx.OnnxBackend, onnx.available, "onnx"),
}
FORMATS = ("int8", "float")


def backend_names() -> list[str]:
    return list(BACKENDS)


def available_backends() -> list[str]:
    return [name for name, (_, ok, _) in BACKENDS.items() if ok()]


def file_key(backend: str, fmt: str) -> str:
    """The card.json `files` key for a backend and format, e.g. ('tflite', 'int8') -> 'tflite_int8'."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend: unknown {backend!r} (choose from {', '.join(BACKENDS)})")
    if fmt not in FORMATS:
        raise ConfigError(f"format: unknown {fmt!r} (choose from {', '.join(FORMATS)})")
    return f"{backend}_{fmt}"


def make_backend(backend: str, path: Path, threads: int = 1) -> InferenceBackend:
    if backend not in BACKENDS:
        raise ConfigError(f"backend: unknown {backend!r} (choose from {', '.join(BACKENDS)})")
    factory = BACKENDS[backend][0]
    return factory(Path(path), threads)


__all__ = [
    "BACKENDS",
    "FORMATS",
    "InferenceBackend",
    "QuantParams",
    "available_backends",
    "backend_names",
    "dequantize",
    "file_key",
    "make_backend",
    "quantize",
]
