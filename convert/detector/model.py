"""The detector network and its losses (CenterNet family, anchor-free, one output tensor).

Layout: stem 3x3/2 -> depthwise-separable stages at strides 4, 8, 16, 32 -> a small top-down path
(nearest upsampling + add) back to stride 4 -> one 3x3 depthwise + 1x1 head with 5 sigmoid channels.
Stride 4 because plates in a 1280x720 frame shrunk to 320 px are often only 6-10 px tall; ReLU and
BatchNorm only, so every op has an int8 kernel in LiteRT and folds cleanly in ONNX QDQ.
One output tensor (heat, offset, sqrt size concatenated) because the shared backends return one.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers


def _conv_bn(x: Any, ch: int, k: int = 1, stride: int = 1) -> Any:
    x = layers.Conv2D(ch, k, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.97)(x)
    return layers.ReLU()(x)


def _sep(x: Any, ch: int, stride: int = 1) -> Any:
    """Depthwise 3x3 + BN + ReLU, pointwise 1x1 + BN + ReLU; residual when the shape allows."""
    y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization(momentum=0.97)(y)
    y = layers.ReLU()(y)
    y = _conv_bn(y, ch)
    if stride == 1 and x.shape[-1] == ch:
        y = layers.Add()([x, y])
    return y


def build(input_hw: tuple[int, int], channels: int = 3, width: float = 1.0) -> keras.Model:
    """The detector for an (h, w) input; `width` scales every channel count (1.0: ~120 k params)."""
    c = [max(8, int(round(v * width / 8)) * 8) for v in (16, 32, 48, 96, 128)]
    inp = keras.Input((*input_hw, channels), name="input")
    x = _conv_bn(inp, c[0], 3, 2)  # /2
    x = _sep(x, c[1], 2)  # /4
    s4 = _sep(x, c[1])
    x = _sep(s4, c[2], 2)  # /8
    s8 = _sep(_sep(x, c[2]), c[2])
    x = _sep(s8, c[3], 2)  # /16
    s16 = _sep(_sep(x, c[3]), c[3])
    x = _sep(s16, c[4], 2)  # /32: context of a whole car
    x = _sep(_sep(x, c[4]), c[4])
    x = _up_add(x, s16, c[2])
    x = _up_add(x, s8, c[2])
    x = _up_add(x, s4, c[1])
    x = _sep(x, c[1])
    heat = layers.Conv2D(1, 1, bias_initializer=keras.initializers.Constant(-4.6))(x)  # prior p = 0.01
    box = layers.Conv2D(4, 1)(x)
    # Sigmoid before the concatenation, not after: int8 TFLite gives a concatenation one scale for all
    # its inputs, so heat logits (-14.6..+2.9 on the calibration photos) and box logits (-2.9..+0.8)
    # shared one step of 0.069; now the box logits get their own (0.015, 4.6x finer) and the sigmoid
    # outputs (fixed scale 1/256) are concatenated. The float function is unchanged (same weights).
    heat, box = layers.Activation("sigmoid")(heat), layers.Activation("sigmoid")(box)
    return keras.Model(inp, layers.Concatenate()([heat, box]), name="plate_detector")


def _up_add(x: Any, skip: Any, ch: int) -> Any:
    x = layers.UpSampling2D(2, interpolation="nearest")(_conv_bn(x, ch))
    return _sep(layers.Add()([x, _conv_bn(skip, ch)]), ch)


def focal_loss(gt: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
    """CenterNet's penalty-reduced focal loss (alpha 2, beta 4), normalised by the plate count."""
    pred = tf.clip_by_value(pred, 1e-4, 1 - 1e-4)
    pos = tf.cast(gt >= 1.0, tf.float32)
    pos_l = -tf.math.log(pred) * tf.square(1 - pred) * pos
    neg_l = -tf.math.log(1 - pred) * tf.square(pred) * tf.pow(1 - gt, 4.0) * (1 - pos)
    n = tf.maximum(tf.reduce_sum(pos), 1.0)
    return (tf.reduce_sum(pos_l) + tf.reduce_sum(neg_l)) / n


def detector_loss(
    y: tf.Tensor, pred: tf.Tensor, box: str = "center", size: tuple[int, int] = (320, 192)
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(total, heat, box). "center": L1 on offset and sqrt size at plate centres, size weighted 5x
    because its values (0.1-0.5) are small against the offsets (0-1) and matter most for IoU.
    "ltrb": at every weighted cell, 1 - IoU of the predicted and true boxes (both around the cell's
    centre, so IoU has a closed form, as in FCOS) plus L1 on the sqrt distances; IoU is the measure
    the detector is judged by and is scale-free, so small plates count as much as large ones."""
    heat = focal_loss(y[..., 0], pred[..., 0])
    mask = y[..., 5:6]
    n = tf.maximum(tf.reduce_sum(mask), 1.0)
    if box == "ltrb":
        scale = tf.constant([size[0], size[1], size[0], size[1]], tf.float32)
        d_true, d_pred = tf.square(y[..., 1:5]) * scale, tf.square(pred[..., 1:5]) * scale
        inter_w = tf.minimum(d_true[..., 0], d_pred[..., 0]) + tf.minimum(d_true[..., 2], d_pred[..., 2])
        inter_h = tf.minimum(d_true[..., 1], d_pred[..., 1]) + tf.minimum(d_true[..., 3], d_pred[..., 3])
        inter = inter_w * inter_h
        area_t = (d_true[..., 0] + d_true[..., 2]) * (d_true[..., 1] + d_true[..., 3])
        area_p = (d_pred[..., 0] + d_pred[..., 2]) * (d_pred[..., 1] + d_pred[..., 3])
        iou = inter / tf.maximum(area_t + area_p - inter, 1e-6)
        l1 = tf.reduce_sum(tf.abs(pred[..., 1:5] - y[..., 1:5]), axis=-1)
        box_l = tf.reduce_sum((2.0 * (1.0 - iou) + 2.0 * l1) * mask[..., 0]) / n
        return heat + box_l, heat, box_l
    err = tf.abs(pred[..., 1:5] - y[..., 1:5]) * mask * tf.constant([1.0, 1.0, 5.0, 5.0])
    box_l = tf.reduce_sum(err) / n
    return heat + box_l, heat, box_l


def reset_box_head(model: keras.Model, bias: float = -1.3) -> None:
    """Re-initialise the 4-channel box convolution (a new box encoding on a trained backbone); the bias
    starts the sqrt distances at sigmoid(-1.3) = 0.21, about a 15 px plate half-width at 320 px."""
    head = [la for la in model.layers if isinstance(la, layers.Conv2D) and la.filters == 4][-1]
    kernel, b = head.get_weights()
    rng = np.random.default_rng(0)
    head.set_weights([rng.normal(0, 0.01, kernel.shape).astype(np.float32), np.full_like(b, bias)])
