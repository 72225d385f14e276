"""Train the small plate-character CNN (Keras, CPU), with a fixed seed and frozen BN statistics.

The network is sized for int8 on a Pi: about 110 k parameters, so the int8 file stays near 130 KB
and a character costs well under a millisecond. Input (N, 32, 32, 1) float32 from the shared
preprocessing; output softmax over the labels.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convert.plate_chars.augment import augment_batch
from convert.plate_chars.data import CharArrays


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    width: int = 16  # channels of the first block; blocks double it
    dropout: float = 0.25
    threads: int = 2
    augment_p: float = 0.8
    verbose: int = 2
    epoch_samples: int = (
        25000  # > 0: each epoch sees a fresh weighted random subset of this size (CPU budget)
    )
    fnt_weight: float = 0.3  # sampling weight of Chars74K font renders relative to real plate characters
    label_smoothing: float = 0.0
    calibrate: bool = False  # temperature scaling on the validation set (measured: worse reads, see card)


def setup_tf(seed: int, threads: int) -> Any:
    """Import TensorFlow with bounded threads (the machine is shared) and deterministic seeds."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(seed)
    return keras


def build_model(num_classes: int, size: int = 32, width: int = 16, dropout: float = 0.25) -> Any:
    """Three conv blocks (w, 2w, 4w channels; 1, 2, 2 3x3 convs + BN + ReLU), 4x4 flatten, dense."""
    import keras
    from keras import layers

    inp = keras.Input((size, size, 1), name="input")
    x = inp
    for i, ch in enumerate((width, width * 2, width * 4)):
        for j in range(1 if i == 0 else 2):  # one conv at full resolution: most of the FLOPs live there
            x = layers.Conv2D(ch, 3, padding="same", use_bias=False, name=f"conv{i}{j}")(x)
            x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}{j}")(x)
            x = layers.ReLU(name=f"relu{i}{j}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    out = layers.Softmax(name="probs")(x)
    return keras.Model(inp, out, name="plate_chars")


def class_weights(y: np.ndarray, num_classes: int) -> dict[int, float]:
    """Square-root inverse frequency: rare letters count more without drowning the common digits."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, np.sqrt(counts.sum() / (num_classes * np.maximum(counts, 1))), 0.0)
    w = w / w[counts > 0].mean()
    return {i: float(v) for i, v in enumerate(w)}


def predict(model: Any, x: np.ndarray, batch: int = 512) -> np.ndarray:
    """Inference-mode forward pass in batches (model.predict is slow per call and chatty)."""
    outs = [np.asarray(model(x[i : i + batch], training=False)) for i in range(0, len(x), batch)]
    return np.concatenate(outs) if outs else np.zeros((0, model.output_shape[-1]), np.float32)


def recalibrate_bn(model: Any, x: np.ndarray) -> None:
    """Set each BN layer's moving mean/var to the exact statistics of its inputs on clean training data.

    Moving averages lag after short training (TOOLCHAIN.md: 0.76 vs 0.998); the converters fold
    these statistics into the convolutions, so they must be right before export. Layers are done in
    order because each one's input depends on the BN layers before it.
    """
    import keras

    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        probe = keras.Model(model.inputs, layer.input)
        acts = predict(probe, x)
        gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
        mean = acts.mean(axis=(0, 1, 2))
        var = acts.var(axis=(0, 1, 2))
        layer.set_weights([gamma, beta, mean, var])


def fit_temperature(model: Any, data: CharArrays) -> float:
    """Temperature scaling (Guo et al. 2017): the T minimizing held-out NLL of softmax(logits / T),
    folded into the last Dense layer so the exported files carry calibrated probabilities.

    Label smoothing caps the top probability near 1 - smoothing; the reader's thresholds (weak
    ends, gap filling, plausible reads) are probabilities, so they need calibrated ones.
    Returns T (1.0 when there is no data).
    """
    import keras

    if not len(data):
        return 1.0
    layer = model.get_layer("logits")
    logits = predict(keras.Model(model.inputs, layer.output), data.x).astype(np.float64)

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return float(-logp[np.arange(len(data)), data.y].mean())

    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 121))
    t = float(grid[int(np.argmin([nll(g) for g in grid]))])
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel / t, bias / t])
    return t


def _lr_at(epoch: int, cfg: TrainConfig) -> float:
    """Short warm-up, then cosine decay to ~0 so the last epochs settle the weights."""
    if epoch == 0:
        return cfg.lr * 0.3
    return 0.5 * cfg.lr * (1 + math.cos(math.pi * epoch / max(1, cfg.epochs)))


def _epoch_subset(data: CharArrays, cfg: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """Indices for one epoch: everything, or a weighted sample without replacement."""
    if cfg.epoch_samples <= 0 or cfg.epoch_samples >= len(data):
        return np.arange(len(data))
    w = np.where(np.char.startswith(data.source.astype(str), "chars74k"), cfg.fnt_weight, 1.0)
    return np.sort(rng.choice(len(data), cfg.epoch_samples, replace=False, p=w / w.sum()))


def accuracy(model: Any, data: CharArrays) -> float:
    if not len(data):
        return float("nan")
    return float((predict(model, data.x).argmax(1) == data.y).mean())


def train(
    train_set: CharArrays,
    val_set: CharArrays,
    num_classes: int,
    cfg: TrainConfig,
    checkpoint: Path | None = None,
) -> Any:
    """Fit with fresh augmentation each epoch; keep the weights of the best validation epoch."""
    keras = setup_tf(cfg.seed, cfg.threads)
    model = build_model(num_classes, train_set.x.shape[1], cfg.width, cfg.dropout)
    smooth = cfg.label_smoothing > 0
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.lr),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
        if smooth
        else "sparse_categorical_crossentropy",
        metrics=["categorical_accuracy" if smooth else "accuracy"],
    )
    rng = np.random.default_rng(cfg.seed)
    cw = class_weights(train_set.y, num_classes)
    best, best_w = -1.0, model.get_weights()
    for epoch in range(cfg.epochs):
        model.optimizer.learning_rate.assign(_lr_at(epoch, cfg))
        part = train_set.take(_epoch_subset(train_set, cfg, rng))
        xa = augment_batch(part.x, rng, cfg.augment_p)
        model.fit(
            xa,
            np.eye(num_classes, dtype=np.float32)[part.y] if smooth else part.y,
            batch_size=cfg.batch_size,
            epochs=1,
            class_weight=cw,
            shuffle=True,
            verbose=cfg.verbose,
        )
        acc = accuracy(model, val_set)
        if cfg.verbose:
            print(f"epoch {epoch + 1}/{cfg.epochs} lr {_lr_at(epoch, cfg):.2e} val_acc {acc:.4f}", flush=True)
        if not acc <= best:  # also true for nan (no validation set): keep the latest
            best, best_w = acc, model.get_weights()
            if checkpoint is not None:  # lets a run cut short still be exported (BN fixed afterwards)
                model.save(checkpoint)
    model.set_weights(best_w)
    calib = train_set.x[rng.permutation(len(train_set))[:8192]]
    recalibrate_bn(model, calib)
    if cfg.calibrate:
        t = fit_temperature(model, val_set)
        if cfg.verbose:
            print(f"temperature {t:.3f} (fitted on the validation set)", flush=True)
    return model
