"""Text-mode figures for the model card: read seeded rendered pages and score them.

Printed pages use the committed fonts (edge_ocr/data/fonts), which the 62-class training never saw;
handwritten pages use the EnglishHnd writers held out of training. Same generator as the tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_ocr.synth import committed_fonts
from edge_ocr.text.reader import TextReader
from edge_ocr.text.render import PageScore, held_out_strokes, make_pages, score_page

PAGES, SEED = 40, 2026


def score_pages(reader: TextReader, kind: str, n: int = PAGES, seed: int = SEED) -> PageScore:
    strokes = held_out_strokes() if kind == "handwritten" else None
    total = PageScore(0, 0, 0, 0)
    for page in make_pages(kind, n, seed, committed_fonts(), strokes):
        total = total + score_page(page.lines, reader.read(page.image).text.split("\n"))
    return total


def measure_text_mode(model_dir: Path, n: int = PAGES, seed: int = SEED) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pages_per_kind": n,
        "seed": seed,
        "backend": "tflite int8",
        "generator": "edge_ocr.text.render.make_pages",
    }
    reader = TextReader(model_dir, "tflite", "int8")
    for kind in ("printed", "handwritten"):
        s = score_pages(reader, kind, n, seed)
        out[kind] = {
            "char_accuracy": round(s.char_accuracy, 4),
            "word_accuracy": round(s.word_accuracy, 4),
            "chars": s.chars,
            "words": s.words,
        }
    return out
