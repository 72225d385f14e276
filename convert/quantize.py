"""Export a trained Keras model to the four shipped files: float/int8 TFLite and float/int8 ONNX.

Quantization arithmetic (both formats): real = scale * (q - zero_point), q int8 in [-128, 127].
- TFLite int8: full-integer model with int8 input AND output. Input scale/zero point come from the
  representative dataset (inputs live in [0, 1], so scale ~ 1/255, zero point -128); the softmax
  output is int8 with the fixed scale 1/256 and zero point -128. The backend reads them from the
  interpreter and (de)quantizes around the call; card.json records them for people.
- ONNX int8: static QDQ (QuantizeLinear/DequantizeLinear pairs around 8-bit convs and matmuls), which
  onnxruntime fuses into integer kernels; uint8 activations and weights (see export_onnx_int8). Input and output stay float32, the softmax runs in float.
  Or (onnx_int8_from_tflite) the int8 TFLite file itself in ONNX form: the same integers and scales.
Calibration data is TRAINING data only (never the held-out or bench sets).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FILES = {
    "tflite_int8": "model_int8.tflite",
    "tflite_float": "model_float.tflite",
    "onnx_int8": "model_int8.onnx",
    "onnx_float": "model_float.onnx",
}


@dataclass(frozen=True)
class TfliteQuant:
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int


def export_tflite(model: Any, calib: np.ndarray, out_dir: Path) -> TfliteQuant:
    """Write model_float.tflite and model_int8.tflite (int8 in/out, representative dataset).

    from_keras_model freezes the weights into the flatbuffer (a bare tf.function would keep them
    as resource variables the interpreter cannot read).
    """
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    (out_dir / FILES["tflite_float"]).write_bytes(conv.convert())

    def representative() -> Iterator[list[np.ndarray]]:
        for i in range(len(calib)):
            yield [calib[i : i + 1].astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    path = out_dir / FILES["tflite_int8"]
    path.write_bytes(conv.convert())
    bad = requant_outliers(path)
    if bad:  # LiteRT's own message names only the delegate ("Node number N (TfLiteXNNPackDelegate) failed")
        raise RuntimeError(f"{path}: XNNPACK refuses convolutions whose requantization scale (input scale x weight "
                           f"scale / output scale) is >= {XNNPACK_REQUANT_LIMIT:g}: " + "; ".join(bad))
    return tflite_quant_params(path)


#: XNNPACK's int8 convolutions need input_scale * weight_scale[c] / output_scale below 256, or the whole
#: delegate fails to prepare and the model does not load (session 19: a detector channel whose 3x3 depthwise
#: weights cancel on a wide input reached 406).
XNNPACK_REQUANT_LIMIT = 256.0


def requant_outliers(path: Path, limit: float = XNNPACK_REQUANT_LIMIT) -> list[str]:
    """'op N NAME (tensor): channel c scale S' for every int8 convolution channel at or over `limit`."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    details = {d["index"]: d for d in it.get_tensor_details()}
    scales = {i: d["quantization_parameters"]["scales"] for i, d in details.items()}
    out = []
    for op in it._get_ops_details():
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        x, w = op["inputs"][0], op["inputs"][1]
        y = op["outputs"][0]
        if not (len(scales[x]) and len(scales[w]) and len(scales[y])):
            continue
        r = scales[x][0] * np.asarray(scales[w]) / scales[y][0]
        for c in np.flatnonzero(r >= limit):
            out.append(f"op {op['index']} {op['op_name']} ({details[w]['name'][:60]}): channel {c} scale {r[c]:.1f}")
    return out


def tflite_quant_params(path: Path) -> TfliteQuant:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    (si, zi), (so, zo) = it.get_input_details()[0]["quantization"], it.get_output_details()[0]["quantization"]
    return TfliteQuant(float(si), int(zi), float(so), int(zo))


def export_onnx_float(model: Any, path: Path, opset: int = 17) -> None:
    """Float ONNX via tf2onnx from the same concrete function the TFLite files came from."""
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="input"),)
    fn = tf.function(lambda x: model(x, training=False))
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=opset)
    path.write_bytes(proto.SerializeToString())


class _Calibration:
    """onnxruntime CalibrationDataReader over training inputs, batch 1 like the device.

    `chunk` > 0: onnxruntime's strided MinMax (CalibStridedMinMax) asks for whole chunks, so the length
    is rounded up to one and `set_range` clamps the last, shorter chunk to the images there are."""

    def __init__(self, input_name: str, x: np.ndarray, chunk: int = 0) -> None:
        self._name, self._x = input_name, np.asarray(x, np.float32)  # no copy of a float32 set (~1 GB)
        self._len = -(-len(self._x) // chunk) * chunk if chunk else len(self._x)
        self.rewind()

    def __len__(self) -> int:
        return self._len

    def set_range(self, start_index: int, end_index: int) -> None:
        self._i, self._end = start_index, min(end_index, len(self._x))

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._i >= self._end:
            return None
        self._i += 1
        return {self._name: self._x[self._i - 1 : self._i]}

    def rewind(self) -> None:
        self._i, self._end = 0, len(self._x)


def export_onnx_int8(float_path: Path, calib: np.ndarray, path: Path, chunk: int = 0) -> None:
    """Static QDQ 8-bit (per-channel weights), Softmax excluded so the output stays exact probabilities.

    `chunk` > 0: MinMax ranges are collected `chunk` images at a time and merged (the calibrator keeps
    every intermediate tensor of a chunk in memory), so a large calibration set fits."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load(str(float_path))
    input_name = model.graph.input[0].name
    softmax = [n.name for n in model.graph.node if n.op_type == "Softmax"]
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(float_path), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre),
            str(path),
            _Calibration(input_name, calib, chunk),
            quant_format=QuantFormat.QDQ,
            # uint8 x uint8: x86 CPUs without VNNI run int8 activations x int8 weights through
            # vpmaddubsw, whose int16 pair sums saturate (measured: 93-96 % int8/float agreement);
            # U8U8 avoids that path (99.2 %) and is a native ARM kernel too.
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QUInt8,
            per_channel=True,
            nodes_to_exclude=softmax,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"CalibStridedMinMax": chunk} if chunk else None,
        )


def onnx_int8_from_tflite(tflite_path: Path, path: Path, opset: int = 17) -> None:
    """An int8 ONNX file with the int8 TFLite file's own integers and scales (tf2onnx reads the
    flatbuffer: QuantizeLinear/DequantizeLinear around each op, int8 weights per channel), so both
    runtimes compute one quantized network instead of two separately calibrated ones.

    tf2onnx keeps the TFLite boundary (int8 in, int8 out); the device backend feeds float32 and reads
    float32, so a QuantizeLinear with the TFLite input's scale and zero point goes in front and a
    DequantizeLinear with the output's behind. The graph's input is named "input", its output "logits".
    """
    import onnx
    import tf2onnx
    from onnx import TensorProto, helper, numpy_helper

    q = tflite_quant_params(tflite_path)
    proto, _ = tf2onnx.convert.from_tflite(str(tflite_path), opset=opset)
    g = proto.graph
    if len(g.input) != 1 or len(g.output) != 1:
        raise ValueError(f"{tflite_path}: expected one input and one output, got {len(g.input)} / {len(g.output)}")
    old_in, old_out = g.input[0], g.output[0]
    for t, want in ((old_in, TensorProto.INT8), (old_out, TensorProto.INT8)):
        if t.type.tensor_type.elem_type != want:
            raise ValueError(f"{tflite_path}: {t.name} is not int8: not a full-integer TFLite file")
    g.initializer.extend([
        numpy_helper.from_array(np.array(q.input_scale, np.float32), "boundary_in_scale"),
        numpy_helper.from_array(np.array(q.input_zero_point, np.int8), "boundary_in_zp"),
        numpy_helper.from_array(np.array(q.output_scale, np.float32), "boundary_out_scale"),
        numpy_helper.from_array(np.array(q.output_zero_point, np.int8), "boundary_out_zp"),
    ])
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "boundary_in_scale", "boundary_in_zp"], [old_in.name]),
        *g.node,
        helper.make_node("DequantizeLinear", [old_out.name, "boundary_out_scale", "boundary_out_zp"], ["logits"]),
    ]
    del g.node[:]
    g.node.extend(nodes)

    def dims(t: Any) -> list[Any]:
        return ["N"] + [d.dim_param or d.dim_value for d in t.type.tensor_type.shape.dim][1:]

    new_in = helper.make_tensor_value_info("input", TensorProto.FLOAT, dims(old_in))
    new_out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, dims(old_out))
    del g.input[:]
    g.input.append(new_in)
    del g.output[:]
    g.output.append(new_out)
    onnx.checker.check_model(proto)
    path.write_bytes(proto.SerializeToString())


def export_all(model: Any, calib: np.ndarray, out_dir: Path, onnx_int8: str = "calibrate") -> TfliteQuant:
    """All four files into out_dir; returns the int8 TFLite quantization parameters.

    onnx_int8: "calibrate" quantizes the float ONNX file on `calib` with onnxruntime (uint8, see
    export_onnx_int8); "tflite" converts the int8 TFLite file (onnx_int8_from_tflite)."""
    if onnx_int8 not in ("calibrate", "tflite"):
        raise ValueError(f"onnx_int8 must be 'calibrate' or 'tflite', not {onnx_int8!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    q = export_tflite(model, calib, out_dir)
    export_onnx_float(model, out_dir / FILES["onnx_float"])
    if onnx_int8 == "tflite":
        onnx_int8_from_tflite(out_dir / FILES["tflite_int8"], out_dir / FILES["onnx_int8"])
    else:
        export_onnx_int8(out_dir / FILES["onnx_float"], calib, out_dir / FILES["onnx_int8"])
    return q
