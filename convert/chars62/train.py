"""Model and training loop of the 62-class reader (Keras, CPU, seeded).

The network is a lean VGG-style CNN sized for int8 on a Pi: one conv at full resolution (cheap on a
one-channel input), then two blocks of two convs, a last conv, global average pooling and a dense
softmax. `width` scales every layer, which is how the size-versus-accuracy table is made.
Augmentation, class weights and BN re-estimation are the plate trainer's (convert.plate_chars.train).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from convert.plate_chars.augment import augment_batch
from convert.plate_chars.data import CharArrays
from convert.plate_chars.train import class_weights, predict, recalibrate_bn, setup_tf
from edge_ocr.text.reader import dual_channels


@dataclass(frozen=True)
class Train62Config:
    width: int = 16
    dual: bool = False  # second input channel: the shared binarization of the grey one
    weighted: bool = False  # sqrt inverse-frequency class weights
    epochs: int = 10
    batch_size: int = 128
    lr: float = 3e-3
    dropout: float = 0.3
    augment_p: float = 0.8
    seed: int = 0
    threads: int = 1
    label_smoothing: float = 0.0
    distill: float = 0.0  # weight of the teachers' soft targets in the training targets (0: none)
    distill_t: float = 1.0  # temperature applied to the teachers' averaged log-probabilities
    keep_last: bool = False  # keep the last epoch, not the best on val (when val is trained on)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build62(num_classes: int, size: int, channels: int, width: int, dropout: float) -> Any:
    import keras
    from keras import layers

    def conv(x: Any, ch: int, name: str) -> Any:
        x = layers.Conv2D(ch, 3, padding="same", use_bias=False, name=f"conv{name}")(x)
        x = layers.BatchNormalization(name=f"bn{name}")(x)
        return layers.ReLU(name=f"relu{name}")(x)

    inp = keras.Input((size, size, channels), name="input")
    x = layers.MaxPooling2D(2, name="pool0")(conv(inp, width, "0"))
    x = layers.MaxPooling2D(2, name="pool1")(conv(conv(x, 2 * width, "1a"), 2 * width, "1b"))
    x = layers.MaxPooling2D(2, name="pool2")(conv(conv(x, 4 * width, "2a"), 4 * width, "2b"))
    x = conv(x, 8 * width, "3")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inp, layers.Softmax(name="probs")(x), name="chars62")


def model_input(x: np.ndarray, dual: bool) -> np.ndarray:
    """What the network is fed: the grey batch, plus its binarized copy when `dual`."""
    return dual_channels(x) if dual else x


def lr_at(epoch: int, cfg: Train62Config) -> float:
    """One warm-up epoch, then cosine decay to ~0 so the last epochs settle the weights."""
    if epoch == 0:
        return cfg.lr * 0.3
    return 0.5 * cfg.lr * (1 + math.cos(math.pi * epoch / max(1, cfg.epochs)))


def training_prior(y: np.ndarray, num_classes: int, weighted: bool) -> np.ndarray:
    """The class prior the loss actually saw: counts times the class weights, normalized."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    if weighted:
        counts = counts * np.array(list(class_weights(y, num_classes).values()))
    return (counts + 1e-3) / (counts + 1e-3).sum()


def adjust_prior(model: Any, trained: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Logit adjustment: move the softmax from the training mixture's class prior to `target`.

    A classifier trained on a mixture (balanced font renders plus naturally skewed photos) learns
    p(c|x) proportional to p(x|c) * prior_train(c). Adding log(target / trained) to the last bias
    gives the posterior under the target prior, which decides the cases the image cannot (o/O,
    s/S, x/X look alike when every crop is stretched to a square). Returns the added offsets.
    """
    layer = model.get_layer("logits")
    kernel, bias = layer.get_weights()
    delta = (np.log(target) - np.log(trained)).astype(bias.dtype)
    layer.set_weights([kernel, bias + delta])
    return delta


def ensemble_targets(probs: list[np.ndarray], temperature: float) -> np.ndarray:
    """Soft targets of several teachers: the mean of their log-probabilities, softened by `temperature`."""
    logits = np.mean([np.log(np.clip(p, 1e-7, 1.0)) for p in probs], axis=0) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def accuracy62(model: Any, data: CharArrays, dual: bool) -> float:
    if not len(data):
        return float("nan")
    return float((predict(model, model_input(data.x, dual)).argmax(1) == data.y).mean())


def train62(
    train_set: CharArrays,
    val_set: CharArrays,
    cfg: Train62Config,
    num_classes: int = 62,
    log: Callable[[str], None] = print,
    teacher: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Any:
    """Fresh augmentation each epoch; keep the best epoch on `val_set` (the last with
    `cfg.keep_last`); re-estimate BN at the end.

    With `teacher` and `cfg.distill` > 0 (knowledge distillation), the targets of each epoch mix the
    one-hot labels with the teacher's probabilities on that epoch's augmented images:
    (1 - distill) * onehot + distill * teacher. Label smoothing still applies on top.
    """
    keras = setup_tf(cfg.seed, cfg.threads)
    channels = 2 if cfg.dual else 1
    model = build62(num_classes, train_set.x.shape[1], channels, cfg.width, cfg.dropout)
    distill = teacher is not None and cfg.distill > 0
    onehot = np.eye(num_classes, dtype=np.float32)[train_set.y]
    if cfg.label_smoothing > 0 or distill:
        loss: Any = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
        targets: np.ndarray = onehot
    else:
        loss, targets = "sparse_categorical_crossentropy", train_set.y
    model.compile(optimizer=keras.optimizers.Adam(cfg.lr), loss=loss)
    log(f"params {model.count_params()} config {cfg.to_json()}")
    rng = np.random.default_rng(cfg.seed)
    cw = class_weights(train_set.y, num_classes) if cfg.weighted else None
    best, best_w = -1.0, model.get_weights()
    for epoch in range(cfg.epochs):
        t0 = time.time()
        model.optimizer.learning_rate.assign(lr_at(epoch, cfg))
        xa = model_input(augment_batch(train_set.x, rng, cfg.augment_p), cfg.dual)
        if distill:
            assert teacher is not None
            targets = (1 - cfg.distill) * onehot + cfg.distill * teacher(xa)
        hist = model.fit(xa, targets, batch_size=cfg.batch_size, epochs=1, class_weight=cw, verbose=0)
        acc = accuracy62(model, val_set, cfg.dual)
        loss = float(hist.history["loss"][-1])
        log(f"epoch {epoch + 1}/{cfg.epochs} loss {loss:.4f} val {acc:.4f} {time.time() - t0:.0f}s")
        if not acc <= best or cfg.keep_last:
            best, best_w = acc, model.get_weights()
    model.set_weights(best_w)
    calib = train_set.x[rng.permutation(len(train_set))[:4096]]
    recalibrate_bn(model, model_input(calib, cfg.dual))
    return model
