"""Parity check of the exported files, run through the device runtimes themselves.

Each file is executed by the interpreter the device uses (ai_edge_litert for .tflite, onnxruntime for
.onnx), not by Keras, so what is measured here is what ships. An int8 file that loses more than the
budget against its float twin raises ParityError: a silently broken quantization must stop the build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convert.plate_chars.data import CharArrays
from convert.quantize import FILES
from edge_ocr.types import PLATE_LABELS


class ParityError(RuntimeError):
    """An int8 model is too far from its float reference."""


@dataclass(frozen=True)
class FormatResult:
    accuracy: float
    per_source: dict[str, float]
    n: int
    folded: float  # accuracy with O=0 and I=1 merged: the pairs plate fonts often draw alike


def fold_classes(y: np.ndarray) -> np.ndarray:
    """Map O to 0 and I to 1 (36-class plate labels) so pattern-resolvable confusions can be reported apart."""
    folded = y.copy()
    folded[folded == PLATE_LABELS.index("O")] = PLATE_LABELS.index("0")
    folded[folded == PLATE_LABELS.index("I")] = PLATE_LABELS.index("1")
    return folded


@dataclass(frozen=True)
class ParityReport:
    formats: dict[str, FormatResult]
    agreement: dict[str, float]  # int8 vs float top-1 agreement, per family ("tflite", "onnx")
    drop_pp: dict[str, float]  # float accuracy minus int8 accuracy, percentage points
    failures: list[str] = field(default_factory=list)


def run_tflite(path: Path, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """Scores (N, C) float32; int8 models get the input quantized and the output dequantized here."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), num_threads=threads)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.resize_tensor_input(inp["index"], [1, *x.shape[1:]])
    it.allocate_tensors()
    scores = []
    for i in range(len(x)):
        xi = x[i : i + 1]
        if inp["dtype"] == np.int8:
            s, z = inp["quantization"]
            xi = np.clip(np.round(xi / s + z), -128, 127).astype(np.int8)  # q = round(r / s) + z
        it.set_tensor(inp["index"], xi)
        it.invoke()
        yo = it.get_tensor(out["index"])
        if out["dtype"] == np.int8:
            s, z = out["quantization"]
            yo = (yo.astype(np.float32) - z) * s  # r = s * (q - z)
        scores.append(yo.astype(np.float32))
    return np.concatenate(scores)


def run_onnx(path: Path, x: np.ndarray, threads: int = 1, batch: int = 256) -> np.ndarray:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    outs = [sess.run(None, {name: x[i : i + batch].astype(np.float32)})[0] for i in range(0, len(x), batch)]
    return np.concatenate(outs).astype(np.float32)


def run_file(path: Path, x: np.ndarray, threads: int = 1) -> np.ndarray:
    return run_tflite(path, x, threads) if path.suffix == ".tflite" else run_onnx(path, x, threads)


def _result(pred: np.ndarray, data: CharArrays) -> FormatResult:
    ok = pred == data.y
    per = {str(s): float(ok[data.source == s].mean()) for s in np.unique(data.source)}
    folded = float((fold_classes(pred) == fold_classes(data.y)).mean()) if len(ok) else float("nan")
    return FormatResult(float(ok.mean()), per, len(ok), folded)


def measure(
    model_dir: Path, data: CharArrays, max_drop_pp: float = 0.5, min_agreement: float = 0.99
) -> ParityReport:
    """Accuracy of every file on held-out data and int8-vs-float agreement; failures listed, not raised."""
    preds = {k: run_file(model_dir / f, data.x).argmax(1) for k, f in FILES.items()}
    formats = {k: _result(p, data) for k, p in preds.items()}
    agreement, drop, failures = {}, {}, []
    for fam in ("tflite", "onnx"):
        agreement[fam] = float((preds[f"{fam}_int8"] == preds[f"{fam}_float"]).mean())
        drop[fam] = 100.0 * (formats[f"{fam}_float"].accuracy - formats[f"{fam}_int8"].accuracy)
        if drop[fam] > max_drop_pp:
            failures.append(f"{fam} int8 is {drop[fam]:.2f} pp below float (budget {max_drop_pp} pp)")
        if agreement[fam] < min_agreement:
            failures.append(f"{fam} int8/float top-1 agreement {agreement[fam]:.4f} < {min_agreement}")
    return ParityReport(formats, agreement, drop, failures)


def verify(
    model_dir: Path, data: CharArrays, max_drop_pp: float = 0.5, min_agreement: float = 0.99
) -> ParityReport:
    """`measure`, then raise ParityError naming every budget that was exceeded."""
    report = measure(model_dir, data, max_drop_pp, min_agreement)
    if report.failures:
        raise ParityError(f"{model_dir}: " + "; ".join(report.failures))
    return report
