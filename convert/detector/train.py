"""Training loop: a mixed batch stream (real photos, composites, plate-free frames) and cosine LR decay.

The learning rate decays to ~0 so the BatchNorm moving statistics have caught up with the weights by
the end (TOOLCHAIN.md: after short training they lag and the exported model inherits the lag); a
final pass in inference mode re-estimates them anyway (recompute_bn).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convert.detector import data, swap
from convert.detector.composite import make_composites

log = logging.getLogger("convert.detector")


@dataclass(frozen=True)
class TrainConfig:
    width: int = 320
    height: int = 192
    channels: int = 3
    stride: int = 4
    steps: int = 3000
    batch: int = 16
    lr: float = 3e-3
    model_width: float = 1.0
    composites: int = 800
    p_real: float = 0.6
    p_synth: float = 0.3  # the rest: plate-free frames (training half of negatives/)
    p_swap: float = 0.0  # of real photos: plates covered by real us-nyc training crops (swap.py)
    p_mosaic: float = 0.0  # of views: 2x2 mosaics of four half-size views (small plates in a full frame)
    seed: int = 0
    checkpoint_steps: tuple[int, ...] = ()
    budget_s: float = 0.0  # >0: cosine over wall time and stop when spent (a shared, contended CPU)
    schedule_steps: int = 0  # LR cosine length; 0: `steps` (a short comparison run can follow a long one's LR)
    box: str = "center"  # box encoding (edge_ocr/reader/detect/cnn.py): "center" (v1) or "ltrb"
    patch_w: int = 0  # >0: train on patch_w x patch_h windows of the letterboxed view (4x fewer pixels
    patch_h: int = 0  # per example at 160x96; the network is fully convolutional), most around a plate

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def train_size(self) -> tuple[int, int]:
        return (self.patch_w, self.patch_h) if self.patch_w else self.size


class Stream:
    """Endless augmented batches; all photos are decoded once and kept in memory (~1 GB at most)."""

    def __init__(
        self, cfg: TrainConfig, train: list[data.Scene], negs: list[Path], quick: bool = False, data_dir: Path = Path()
    ) -> None:
        self.cfg = cfg
        self.full = False  # True: whole views even when cfg has a patch size (BatchNorm re-estimation)
        self.rng = np.random.default_rng(cfg.seed)
        self.real = [(data.load_image(s.path), s.boxes) for s in train]
        self.negs = [data.load_image(p) for p in negs]
        n = 16 if quick else cfg.composites
        self.crops = swap.load_crops(data_dir, "train", 40 if quick else 0) if cfg.p_swap > 0 else []
        self.synth_imgs, self.synth_boxes = make_composites(negs, n, (512, 288), cfg.seed + 1, self.crops)

    def source(self) -> tuple[np.ndarray, np.ndarray]:
        """One photo and its boxes: a real photo (its plates maybe swapped), a composite or a negative."""
        r = self.rng.random()
        if r < self.cfg.p_real or not (self.negs or len(self.synth_imgs)):
            img, boxes = self.real[int(self.rng.integers(len(self.real)))]
            if self.crops and len(boxes) and self.rng.random() < self.cfg.p_swap:
                img, boxes = swap.swap_plates(img, boxes, self.crops, self.rng)
            return img, boxes
        if r < self.cfg.p_real + self.cfg.p_synth or not self.negs:
            k = int(self.rng.integers(len(self.synth_imgs)))
            return self.synth_imgs[k], self.synth_boxes[k]
        return self.negs[int(self.rng.integers(len(self.negs)))], np.zeros((0, 4), np.float32)

    def mosaic(self) -> tuple[np.ndarray, np.ndarray]:
        """Four half-size views in a 2x2 grid: plates half as wide as in a plain view, with a whole frame of
        context around them and no letterbox padding, as in a 1280x720 photo shrunk 4x (session 19)."""
        w, h = self.cfg.size
        hw, hh = w // 2, h // 2
        canvas = np.empty((h, w, 3), np.uint8)
        out = []
        for ox, oy in ((0, 0), (hw, 0), (0, hh), (hw, hh)):
            view, b = data.random_view(*self.source(), (hw, hh), self.rng)
            canvas[oy : oy + hh, ox : ox + hw] = view
            out.append(b + np.array([ox, oy, 0, 0], np.float32))
        return canvas, np.concatenate(out).reshape(-1, 4)

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        if self.cfg.p_mosaic and not self.full and self.rng.random() < self.cfg.p_mosaic:
            view, b = self.mosaic()
        else:
            view, b = data.random_view(*self.source(), self.cfg.size, self.rng)
        if self.cfg.patch_w and not self.full:
            view, b = patch(view, b, (self.cfg.patch_w, self.cfg.patch_h), self.rng)
        if self.cfg.channels == 1:
            view = data.cv2.cvtColor(view, data.cv2.COLOR_BGR2GRAY)[..., None]
        return data.photometric(view, self.rng) if self.cfg.channels == 3 else view, b

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        c = self.cfg
        while True:
            w, h = c.size if self.full else c.train_size
            xs, ys = [], []
            for _ in range(c.batch):
                img, b = self.sample()
                xs.append(img.reshape(h, w, c.channels))
                ys.append(data.targets(b, (w, h), c.stride, c.box, c.size))
            yield np.stack(xs).astype(np.float32) / 255.0, np.stack(ys)


def patch(view: np.ndarray, boxes: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A size window of `view`: around a random plate (whole, when it fits) 4 times in 5, else anywhere."""
    pw, ph = size
    vh, vw = view.shape[:2]
    lo_x, hi_x, lo_y, hi_y = 0.0, float(vw - pw), 0.0, float(vh - ph)
    if len(boxes) and rng.random() < 0.8:
        x, y, bw, bh = boxes[int(rng.integers(len(boxes)))]
        lo_x, hi_x = max(lo_x, min(x + bw - pw, x)), min(hi_x, max(x, x + bw - pw))
        lo_y, hi_y = max(lo_y, min(y + bh - ph, y)), min(hi_y, max(y, y + bh - ph))
    x0 = int(rng.uniform(min(lo_x, hi_x), max(lo_x, hi_x) + 1e-6))
    y0 = int(rng.uniform(min(lo_y, hi_y), max(lo_y, hi_y) + 1e-6))
    x0, y0 = min(max(0, x0), vw - pw), min(max(0, y0), vh - ph)
    b = boxes.copy()
    b[:, 0] -= x0
    b[:, 1] -= y0
    return view[y0 : y0 + ph, x0 : x0 + pw], data.clip_boxes(b, size)


def make_step(model: Any, opt: Any, box: str = "center", size: tuple[int, int] = (320, 192)) -> Any:
    import tensorflow as tf

    from convert.detector.model import detector_loss

    @tf.function
    def step(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            total, heat, box_l = detector_loss(y, pred, box, size)
        grads = tape.gradient(total, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return total, heat, box_l

    return step


def recompute_bn(model: Any, stream: Stream, batches: int = 20) -> None:
    """Re-estimate BatchNorm moving statistics with the final weights (momentum 0 = plain average)."""
    import keras

    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for bn in bns:
        bn.momentum = 1.0 - 1.0 / batches
    stream.full = True  # whole views: the statistics of what the device feeds
    it = stream.batches()
    for _ in range(batches * 2):
        model(next(it)[0], training=True)
    stream.full = False
    for bn in bns:
        bn.momentum = 0.97


def full_size(model: Any, cfg: TrainConfig) -> Any:
    """The same weights in a network of the device's input size (recompute_bn feeds whole views, which
    a network built for training windows refuses); the model itself when it already has that size."""
    if cfg.train_size == cfg.size:
        return model
    from convert.detector.model import build

    full = build((cfg.height, cfg.width), cfg.channels, cfg.model_width)
    full.set_weights(model.get_weights())
    return full


def init_box(weights: Path) -> str:
    """The box encoding a weights file was trained with (its run's train_config.json; v1 had none)."""
    conf = weights.parent / "train_config.json"
    return str(json.loads(conf.read_text()).get("box", "center")) if conf.exists() else "center"


def train(cfg: TrainConfig, data_dir: Path, out: Path, quick: bool = False, init: Path | None = None) -> Any:
    """Train, checkpointing at cfg.checkpoint_steps and at the end; returns the Keras model."""
    import keras

    from convert.detector.model import build

    train_set, _ = data.split_scenes(data_dir)
    negs = data.negatives(data_dir, data.NEG_TRAIN_HALF)
    if quick:
        train_set, negs = train_set[:24], negs[:8]
    stream = Stream(cfg, train_set, negs, quick, data_dir)
    model = build((cfg.train_size[1], cfg.train_size[0]), cfg.channels, cfg.model_width)
    if init is not None:  # continue a finished run (warm restart of the cosine schedule)
        model.load_weights(str(init))
        if cfg.box != init_box(init):
            from convert.detector.model import reset_box_head

            reset_box_head(model)
    opt = keras.optimizers.Adam(cfg.lr)
    step = make_step(model, opt, cfg.box, cfg.size)
    out.mkdir(parents=True, exist_ok=True)
    it, t0, hist = stream.batches(), time.time(), []
    for i in range(1, cfg.steps + 1):
        frac = (time.time() - t0) / cfg.budget_s if cfg.budget_s else (i - 1) / (cfg.schedule_steps or cfg.steps)
        if frac >= 1.0:
            break
        opt.learning_rate.assign(cfg.lr * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * min(1.0, frac)))))
        x, y = next(it)
        total, heat, box = step(x, y)
        hist.append([float(total), float(heat), float(box)])
        if i % 50 == 0:
            m = np.mean(hist[-50:], axis=0)
            log.info("step %d loss %.3f heat %.3f box %.3f  %.1f s", i, m[0], m[1], m[2], time.time() - t0)
        if i in cfg.checkpoint_steps:  # moving statistics are unused in training mode: safe mid-run
            ckpt = full_size(model, cfg)
            recompute_bn(ckpt, stream)
            ckpt.save_weights(str(out / f"step{i}.weights.h5"))
    model = full_size(model, cfg)
    recompute_bn(model, stream)
    model.save_weights(str(out / "final.weights.h5"))
    (out / "train_config.json").write_text(json.dumps({**asdict(cfg), "init": str(init) if init else None,
                                                       "train_photos": len(train_set),
                                                       "negatives_train_half": len(negs),
                                                       "steps_done": len(hist), "seconds": time.time() - t0}, indent=1))
    return model
