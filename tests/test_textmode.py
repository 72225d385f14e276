"""Text mode: contour finder, lines/words, case from geometry, and reading rendered pages end to end."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.paths import default_model_dir
from edge_ocr.preprocess import guess_dark_on_light
from edge_ocr.synth import committed_fonts
from edge_ocr.text.layout import FinderConfig, find_text_boxes, group_lines, split_words, top_offsets
from edge_ocr.text.reader import dual_channels, resolve_case
from edge_ocr.text.render import PageScore, make_pages, render_printed, score_page
from edge_ocr.types import Box

MODEL = default_model_dir("chars62")


def test_dual_channels_adds_the_binarized_copy() -> None:
    x = np.zeros((2, 8, 8, 1), np.float32)
    x[0, 2:6, 3:5, 0] = 0.9
    x[0, 0, 0, 0] = 0.2
    out = dual_channels(x)
    assert out.shape == (2, 8, 8, 2)
    assert np.array_equal(out[..., 0], x[..., 0])
    assert out[0, 3, 3, 1] == 1.0 and out[0, 0, 0, 1] == 0.0 and out[0, 7, 7, 1] == 0.0
    assert not out[1, ..., 1].any()  # a blank input stays blank


def test_lines_and_words_from_boxes() -> None:
    # two lines, the second slightly lower at its right end (rotation); a wide gap in line one
    row1 = [Box(10, 10, 8, 12), Box(21, 11, 8, 12), Box(50, 10, 8, 12)]
    row2 = [Box(10, 40, 8, 12), Box(21, 41, 8, 12), Box(32, 43, 8, 12)]
    lines = group_lines(row2 + row1)
    assert lines == [row1, row2]
    cfg = FinderConfig()
    assert split_words(row1, cfg) == [row1[:2], row1[2:]]
    assert split_words(row2, cfg) == [row2]


def test_case_of_size_alike_letters_comes_from_the_line() -> None:
    names = list("HxXoO0")
    line = [Box(0, 0, 10, 20), Box(12, 8, 10, 12), Box(24, 0, 10, 20), Box(36, 8, 10, 12), Box(48, 0, 10, 20)]
    off = top_offsets(line)
    assert off[1] > 0.3 and abs(off[0]) < 0.05
    probs = np.full((5, 6), 0.1, np.float32)
    probs[4, 5] = 0.5  # the model prefers the digit 0 for the tall round glyph
    got = resolve_case(["H", "X", "x", "O", "o"], probs, off, names)
    assert got == ["H", "x", "X", "o", "0"]


def test_finder_counts_match_rendered_pages() -> None:
    rng = np.random.default_rng(5)
    cfg = FinderConfig()
    for font in committed_fonts():
        lines = ["Ab3 xyZ", "q7 Tij K"]
        page = render_printed(lines, font, rng)
        found = find_text_boxes(page.image, cfg, guess_dark_on_light(page.image))
        assert [[len(w) for w in line] for line in found] == [[3, 3], [2, 3, 1]], font.name


def test_score_page_counts_by_hand() -> None:
    s = score_page(["ab cd", "ef"], ["ab cx"])
    assert (s.chars, s.char_errors, s.words, s.words_right) == (6, 3, 3, 1)
    total = s + PageScore(4, 0, 2, 2)
    assert total.char_accuracy == pytest.approx(1 - 3 / 10) and total.word_accuracy == pytest.approx(3 / 5)


@pytest.fixture(scope="module")
def reader():  # type: ignore[no-untyped-def]
    from edge_ocr.text.reader import TextReader

    return TextReader(MODEL, "tflite", "int8")


def _read_pages(reader, pages) -> PageScore:  # type: ignore[no-untyped-def]
    total = PageScore(0, 0, 0, 0)
    for p in pages:
        total = total + score_page(p.lines, reader.read(p.image).text.split("\n"))
    return total


def test_printed_pages_read_at_95_percent(reader) -> None:  # type: ignore[no-untyped-def]
    """Fonts the model never saw in training (the committed ones); random characters, not words."""
    s = _read_pages(reader, make_pages("printed", 16, seed=7, fonts=committed_fonts()))
    print(f"printed: char {s.char_accuracy:.4f} word {s.word_accuracy:.4f} ({s.chars} chars)")
    assert s.char_accuracy >= 0.95


def test_handwritten_pages_held_out_writers(reader, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    from edge_ocr.text.render import held_out_strokes

    s = _read_pages(reader, make_pages("handwritten", 16, seed=7, strokes=held_out_strokes(shared_data)))
    print(f"handwritten: char {s.char_accuracy:.4f} word {s.word_accuracy:.4f} ({s.chars} chars)")
    assert (
        s.char_accuracy >= 0.6
    )  # measured figure is in models/chars62/MODEL_CARD.md; this guards regressions


def test_read_json_has_text_confidences_and_boxes(reader) -> None:  # type: ignore[no-untyped-def]
    page = make_pages("printed", 1, seed=3, fonts=committed_fonts()[:1])[0]
    out = reader.read(page.image).to_json()
    assert out["text"].count("\n") == len(out["lines"]) - 1
    char = out["lines"][0]["words"][0]["chars"][0]
    assert set(char) == {"char", "confidence", "box"} and 0.0 <= char["confidence"] <= 1.0
    assert len(char["box"]) == 4
    json.dumps(out)


def test_cli_read_text_mode(tmp_path: Path) -> None:
    from edge_ocr.cli import main

    page = make_pages("printed", 1, seed=11, fonts=committed_fonts()[:1])[0]
    f = tmp_path / "page.png"
    cv2.imwrite(str(f), page.image)
    ann = tmp_path / "ann"
    assert main(["read", "--mode", "text", "--annotate", str(ann), str(f)]) == 0
    assert (ann / "page.jpg").exists()
