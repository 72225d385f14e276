"""`edge-ocr read --mode text`: one JSON object per image with the text, lines, words and characters.

{"file": ..., "ms": ..., "width": ..., "height": ..., "text": "line one\\nline two",
 "lines": [{"text", "box", "words": [{"text", "box", "chars": [{"char", "confidence", "box"}]}]}]}
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.text.reader import TextRead, TextReader

LINE_COLOUR = (0, 200, 0)
CHAR_COLOUR = (0, 140, 255)


def annotate_text(image: np.ndarray, read: TextRead) -> np.ndarray:
    """BGR copy with each character's box and label, and each line's box."""
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for line in read.lines:
        lb = line.box
        cv2.rectangle(out, (lb.x - 2, lb.y - 2), (lb.x2 + 2, lb.y2 + 2), LINE_COLOUR, 1)
        for word in line.words:
            for c in word.chars:
                cv2.rectangle(out, (c.box.x, c.box.y), (c.box.x2, c.box.y2), CHAR_COLOUR, 1)
                scale = max(0.35, c.box.h / 40.0)
                cv2.putText(
                    out,
                    c.char,
                    (c.box.x, max(10, c.box.y - 3)),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    scale,
                    (0, 0, 255),
                    1,
                    cv2.LINE_AA,
                )
    return out


def text_read_one(args: argparse.Namespace) -> Callable[[Path, Path | None], None]:
    """The per-file reader of `edge-ocr read --mode text` (contours + 62-class model); the top CLI
    runs it over the inputs, so file errors are reported the same way in both modes."""
    reader = TextReader(args.model, backend=args.backend, fmt=args.fmt, threads=args.threads)
    return lambda path, outdir: _read_text_one(reader, path, outdir)


def _read_text_one(reader: TextReader, path: Path, outdir: Path | None) -> None:
    """Decode, read, print one JSON line, annotate; `ms` covers decoding and reading."""
    from edge_ocr.annotate import write_annotated
    from edge_ocr.imageio import load_image

    t0 = time.perf_counter()
    image = load_image(path)
    read = reader.read(image)
    ms = 1000.0 * (time.perf_counter() - t0)
    h, w = image.shape[:2]
    out = {"file": str(path), "ms": round(ms, 2), "width": int(w), "height": int(h), **read.to_json()}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    if outdir is not None:
        write_annotated(outdir, path, annotate_text(image, read))
