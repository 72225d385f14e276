"""Model and training loop of the CTC line reader (workstation only: TensorFlow).

All convolutional on purpose: depthwise-separable blocks collapse the 32-pixel height to one row of
32 frames (one per 4 input columns), then a 1-D convolutional head (kernel 5, dilations 1 and 2,
residual) widens each frame's view to most of a plate. An RNN head would read a little more context but int8 TFLite conversion of
recurrent layers is fragile, and convolutions quantize and run well on a Pi.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convert.sequence.lines import Lines, augment, encode, eval_input
from edge_ocr.reader.sequence import ALPHABET, INPUT_H, INPUT_W, greedy_decode, log_softmax

NUM_CLASSES = len(ALPHABET) + 1
# Sampling weights by source, renormalised over the sources a lines cache holds: a cache without the
# pseudo-labelled scene plates (extend.py, v5) samples exactly as v1-v4 did.
REAL_MIX = {
    "us-nyc-crops": 0.2, "br-crops": 0.1, "vn-char-boxes": 0.1, "pl-crops": 0.03, "synth": 0.22, "synth-us": 0.35,
    "scenes-pseudo": 0.1,
}


@dataclass(frozen=True)
class TrainConfig:
    minutes: float = 60.0
    max_steps: int = 100_000
    batch: int = 64
    lr: float = 2e-3
    width: int = 128
    seed: int = 0
    eval_every_s: float = 300.0
    init: str = ""  # weights to start from (a warm restart of an earlier run); "" = random
    reframe: float = 0.0  # share of real crops reframed (lines.reframe); 0 replays the shipped v1 run


def build_model(width: int = 128) -> Any:
    """(32, 128, 1) grey in [0, 1] -> (32, 37) logits per frame (blank last)."""
    import keras
    from keras import layers as L

    def bn_relu(x: Any) -> Any:
        return L.ReLU()(L.BatchNormalization()(x))

    def sep(x: Any, ch: int, k: Any = 3, dil: Any = 1) -> Any:
        x = bn_relu(L.DepthwiseConv2D(k, padding="same", dilation_rate=dil, use_bias=False)(x))
        return bn_relu(L.Conv2D(ch, 1, use_bias=False)(x))

    inp = keras.Input((INPUT_H, INPUT_W, 1), name="input")
    # Stride 2 at once: full-resolution layers cost 4x the time for little gain (measured: 0.44 s
    # against 1.8 s per batch of 64 on one shared core, 109 k against 147 k parameters).
    x = bn_relu(L.Conv2D(24, 3, strides=2, padding="same", use_bias=False)(inp))
    x = sep(x, 48)
    x = L.MaxPooling2D(2)(x)
    x = sep(sep(x, 64), 64)
    x = L.MaxPooling2D((2, 1))(x)
    x = sep(x, 96)
    x = bn_relu(L.Conv2D(width, (INPUT_H // 8, 1), use_bias=False)(x))  # height 4 -> 1
    for dil in (1, 2):
        x = L.Add()([x, sep(x, width, (1, 5), (1, dil))])
    x = L.Dropout(0.15)(x)
    x = L.Conv2D(NUM_CLASSES, 1, name="logits")(x)
    out = L.Reshape((INPUT_W // 4, NUM_CLASSES))(x)
    return keras.Model(inp, out, name="plate_seq")


def sample_batch(
    data: Lines, by_source: dict[str, np.ndarray], n: int, rng: np.random.Generator, reframe_p: float = 0.0
):
    names = [s for s in REAL_MIX if len(by_source.get(s, ()))]
    p = np.array([REAL_MIX[s] for s in names])
    picks = rng.choice(len(names), size=n, p=p / p.sum())
    idx = [int(rng.choice(by_source[names[k]])) for k in picks]
    if reframe_p > 0:  # a real crop may be reframed inside a patch of another random training line
        texture = rng.integers(0, len(data), n)
        xs = [
            augment(data.images[i], rng, data.sources[i], data.images[j], reframe_p)
            for i, j in zip(idx, texture, strict=True)
        ]
    else:
        xs = [augment(data.images[i], rng) for i in idx]
    x = np.stack(xs)[..., None]
    y, lens = encode([data.texts[i] for i in idx])
    return x, y, lens


def predict_texts(model: Any, xs: np.ndarray, batch: int = 256) -> list[str]:
    out: list[str] = []
    for i in range(0, len(xs), batch):
        logits = np.asarray(model(xs[i : i + batch], training=False))
        out.extend(greedy_decode(lp)[0] for lp in log_softmax(logits))
    return out


def exact_by_source(model: Any, test: Lines) -> dict[str, float]:
    xs = np.stack([eval_input(im) for im in test.images])[..., None]
    pred = predict_texts(model, xs)
    res: dict[str, float] = {}
    for s in sorted(set(test.sources)):
        k = [i for i, src in enumerate(test.sources) if src == s]
        res[s] = float(np.mean([pred[i] == test.texts[i] for i in k]))
    return res


def make_step(model: Any, opt: Any) -> Callable[..., Any]:
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def step(x: Any, y: Any, lens: Any) -> Any:
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            t = tf.fill([tf.shape(x)[0]], INPUT_W // 4)
            loss = tf.reduce_mean(
                tf.nn.ctc_loss(y, logits, lens, t, logits_time_major=False, blank_index=NUM_CLASSES - 1)
            )
        grads = tape.gradient(loss, model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return step


def train(lines: dict[str, Lines], cfg: TrainConfig, work: Path, log: Callable[[str], None]) -> Any:
    """Train within a wall-clock budget; the learning rate follows a cosine over the elapsed fraction."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = build_model(cfg.width)
    if cfg.init:
        model.load_weights(cfg.init)
    log(f"params {model.count_params()} init {cfg.init or 'random'}")
    opt = keras.optimizers.AdamW(cfg.lr, weight_decay=1e-4)
    step = make_step(model, opt)
    tr = lines["train"]
    by_source = {s: np.array([i for i, v in enumerate(tr.sources) if v == s]) for s in set(tr.sources)}
    t0, last_eval, losses, i = time.time(), time.time(), [], 0
    while True:
        frac = max(i / cfg.max_steps, (time.time() - t0) / (cfg.minutes * 60))
        if frac >= 1.0:
            break
        warm = min(1.0, (i + 1) / 300)
        opt.learning_rate.assign(cfg.lr * warm * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * frac))))
        losses.append(float(step(*sample_batch(tr, by_source, cfg.batch, rng, cfg.reframe))))
        i += 1
        if time.time() - last_eval > cfg.eval_every_s:
            last_eval = time.time()
            acc = exact_by_source(model, lines["test"])
            log(f"step {i} {frac:.2f} loss {np.mean(losses[-200:]):.3f} held-out {acc}")
            model.save_weights(str(work / "ckpt.weights.h5"))
    log(f"done {i} steps, loss {np.mean(losses[-200:]):.3f}")
    model.save_weights(str(work / "final.weights.h5"))
    return model
