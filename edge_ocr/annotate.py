"""Draw reads on a copy of an image, so a person can see at a glance what was read where."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.errors import SourceError
from edge_ocr.types import PlateRead

PLATE_COLOUR = (0, 200, 0)
CHAR_COLOUR = (0, 140, 255)


def annotate(image: np.ndarray, reads: Sequence[PlateRead]) -> np.ndarray:
    """BGR copy of `image` with each plate's outline, its character boxes and the text above it."""
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    thick = max(1, round(max(out.shape[:2]) / 500))
    for r in reads:
        quad = np.round(np.array(r.corners, np.float32)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [quad], True, PLATE_COLOUR, thick)
        for c in r.chars:
            cv2.rectangle(out, (c.box.x, c.box.y), (c.box.x2, c.box.y2), CHAR_COLOUR, max(1, thick // 2))
        label = f"{r.plate} {r.confidence:.2f}"
        scale = max(0.5, r.box.h / 60.0) if r.box.h < out.shape[0] * 0.8 else max(0.5, out.shape[0] / 200.0)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        x, y = max(0, r.box.x), max(th + 4, r.box.y - 4)
        if r.box.y - th - 8 < 0:  # no room above (a crop): write inside, at the top
            y = th + 4
        cv2.rectangle(out, (x, y - th - 4), (x + tw + 4, y + 4), (0, 0, 0), -1)
        cv2.putText(
            out, label, (x + 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA
        )
    return out


def write_annotated(outdir: Path, source: Path, image: np.ndarray) -> Path:
    """Write next to nothing else: OUTDIR/<name>.jpg, numbered when two inputs share a name."""
    target = outdir / f"{source.stem}.jpg"
    n = 1
    while target.exists():
        target = outdir / f"{source.stem}-{n}.jpg"
        n += 1
    if not cv2.imwrite(str(target), image):
        raise SourceError(f"{target}: cannot write annotated image")
    return target
