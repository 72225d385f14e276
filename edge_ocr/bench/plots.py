"""PNG plots for benchmark runs (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_png(cm: np.ndarray, labels: Sequence[str], path: Path, title: str) -> Path:
    """Row-normalised confusion matrix (rows: truth); off-diagonal cells are the confusions."""
    plt = _plt()
    rows = cm.sum(axis=1, keepdims=True).astype(np.float64)
    norm = np.divide(cm, rows, out=np.zeros_like(cm, dtype=np.float64), where=rows > 0)
    fig, ax = plt.subplots(figsize=(9, 8))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for t, p in zip(*np.nonzero(cm), strict=True):
        if t != p:
            ax.text(p, t, str(cm[t, p]), ha="center", va="center", fontsize=6, color="red")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency_hist_png(
    series: Mapping[str, Sequence[float]], path: Path, title: str, xlabel: str = "ms"
) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, values in series.items():
        if len(values):
            ax.hist(values, bins=40, alpha=0.55, label=f"{name} (median {np.median(values):.1f})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def bar_png(values: Mapping[str, Mapping[str, float]], path: Path, title: str, ylabel: str = "%") -> Path:
    """Grouped bars: one group per metric, one bar per run."""
    plt = _plt()
    runs = list(values)
    metrics = list(dict.fromkeys(m for v in values.values() for m in v))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(metrics) * max(1, len(runs)) / 2), 4.5))
    width = 0.8 / max(1, len(runs))
    for i, run in enumerate(runs):
        ys = [values[run].get(m, 0.0) for m in metrics]
        bars = ax.bar(np.arange(len(metrics)) + i * width, ys, width, label=run)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks(np.arange(len(metrics)) + width * (len(runs) - 1) / 2, metrics)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def gallery_png(tiles: Sequence[tuple[np.ndarray, str]], path: Path, title: str, cols: int = 4) -> Path:
    """Grid of images (BGR or grey) with a caption under each: what was expected and what was read."""
    plt = _plt()
    n = max(1, len(tiles))
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (img, caption) in zip(axes.ravel(), tiles, strict=False):
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        ax.imshow(rgb)
        ax.set_title(caption, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
