"""CTC decoding and candidate scoring (edge_ocr.reader.sequence) and the shipped plate-seq model."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.reader.sequence import (
    ALPHABET,
    SequenceReader,
    ctc_log_likelihood,
    ctc_log_likelihoods,
    fuse,
    greedy_decode,
    log_softmax,
    plate_input,
)

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "plate-seq"
DATA = Path(os.environ.get("EDGE_OCR_DATA", ROOT.parent / "shared" / "data"))


def frames(path: list[int], n_classes: int, sure: float = 8.0) -> np.ndarray:
    """Log-probabilities that put almost all mass on `path` (one class per frame)."""
    logits = np.zeros((len(path), n_classes))
    logits[np.arange(len(path)), path] = sure
    return log_softmax(logits)


def brute_force(logp: np.ndarray, text: str, alphabet: str) -> float:
    """log P(text) by enumerating every alignment (only for tiny cases)."""
    blank, total = len(alphabet), 0.0
    for path in itertools.product(range(blank + 1), repeat=logp.shape[0]):
        out, prev = [], -1
        for k in path:
            if k != prev and k != blank:
                out.append(alphabet[k])
            prev = k
        if "".join(out) == text:
            total += float(np.exp(sum(logp[t, k] for t, k in enumerate(path))))
    return float(np.log(total)) if total > 0 else -np.inf


def test_greedy_collapses_repeats_and_drops_blanks() -> None:
    b = len(ALPHABET)
    a, one = ALPHABET.index("A"), ALPHABET.index("1")
    text, conf = greedy_decode(frames([b, a, a, b, a, one, one, b], b + 1))
    assert text == "AA1"
    assert 0.9 < conf <= 1.0


def test_greedy_empty_when_all_blank() -> None:
    assert greedy_decode(frames([len(ALPHABET)] * 5, len(ALPHABET) + 1))[0] == ""


@pytest.mark.parametrize("text", ["", "A", "B", "AA", "AB", "BA", "ABA", "AAB", "ABAB", "AABB", "BBBBB"])
def test_forward_matches_brute_force(text: str) -> None:
    rng = np.random.default_rng(3)
    logp = log_softmax(rng.normal(size=(5, 3)))
    want = brute_force(logp, text, "AB")
    got = ctc_log_likelihood(logp, text, "AB")
    if np.isinf(want):
        assert np.isinf(got) and got < 0
    else:
        assert got == pytest.approx(want, abs=1e-5)


def test_repeated_characters_need_a_blank() -> None:
    b = len(ALPHABET)
    a = ALPHABET.index("A")
    merged = frames([a, a, a, b], b + 1)  # reads "A": "AA" needs a blank between the two letters
    split = frames([a, b, a, b], b + 1)
    assert ctc_log_likelihood(merged, "A") > ctc_log_likelihood(merged, "AA") + 5
    assert ctc_log_likelihood(split, "AA") > ctc_log_likelihood(split, "A") + 5
    assert ctc_log_likelihood(frames([a, a], b + 1), "AA") < ctc_log_likelihood(
        frames([a, b, a], b + 1), "AA"
    )


def test_batched_scores_equal_single_and_reject_unknown_characters() -> None:
    rng = np.random.default_rng(0)
    logp = log_softmax(rng.normal(size=(32, len(ALPHABET) + 1)))
    texts = ["ABC1234", "A", "", "ZZ99", "abc"]
    batch = ctc_log_likelihoods(logp, texts)
    for t, v in zip(texts[:4], batch[:4], strict=True):
        assert v == pytest.approx(ctc_log_likelihood(logp, t), abs=1e-9)
    assert batch[4] == -np.inf
    assert ctc_log_likelihood(logp, "A" * 17) == -np.inf  # 17 A need 33 frames (blanks between)
    assert ctc_log_likelihood(logp, "A" * 16) > -np.inf


def test_fuse_follows_the_sequence_when_weighted() -> None:
    b = len(ALPHABET)
    ids = [ALPHABET.index(c) for c in "AB0"]
    logp = frames([ids[0], b, ids[1], b, ids[2], b], b + 1, sure=5.0)
    cands = [("ABO", 0.6), ("AB0", 0.4)]
    assert fuse(cands, logp, weight=0.0, absent=-9.0)[0] == "ABO"
    assert fuse(cands, logp, weight=1.0, absent=-9.0)[0] == "AB0"
    assert fuse([], logp, weight=1.0, absent=-9.0)[0] == "AB0"  # the best path is a candidate too


def test_keep_makes_the_sequence_model_beat_the_contour_choice_by_a_margin() -> None:
    b = len(ALPHABET)
    ids = [ALPHABET.index(c) for c in "AB0"]
    logp = frames([ids[0], b, ids[1], b, ids[2], b], b + 1, sure=1.5)  # a weak second opinion
    margin = float(ctc_log_likelihood(logp, "AB0") - ctc_log_likelihood(logp, "ABO"))
    cands = [("ABO", 0.5), ("AB0", 0.5)]
    assert fuse(cands, logp, weight=1.0, absent=-9.0)[0] == "AB0"
    assert fuse(cands, logp, weight=1.0, absent=-9.0, keep=margin + 0.1)[0] == "ABO"
    assert fuse(cands, logp, weight=1.0, absent=-9.0, keep=margin - 0.1)[0] == "AB0"
    strong = frames([ids[0], b, ids[1], b, ids[2], b], b + 1, sure=8.0)  # a sure one still overrides
    assert fuse(cands, strong, weight=1.0, absent=-9.0, keep=4.0)[0] == "AB0"


def test_length_keeps_only_candidates_of_that_length() -> None:
    b = len(ALPHABET)
    ids = [ALPHABET.index(c) for c in "AB0"]
    logp = frames([ids[0], b, ids[1], b, ids[2], b], b + 1, sure=8.0)
    cands = [("AB", 0.6), ("XY", 0.3)]
    assert fuse(cands, logp, weight=1.0, absent=-3.0)[0] == "AB0"  # the longer best path wins
    assert fuse(cands, logp, weight=1.0, absent=-3.0, length=2)[0] == "AB"  # a frame's rule
    assert fuse(cands, logp, weight=1.0, absent=-9.0, length=5) == ("", 0.0)


def test_two_row_input_is_side_by_side() -> None:
    img = np.full((60, 80), 255, np.uint8)
    img[:30, :] = 0
    x = plate_input(img, rows=2)
    assert x.shape == (32, 128)
    assert x[:, :60].mean() < 0.1 and x[:, 68:].mean() > 0.9


@pytest.mark.skipif(not (MODEL / "card.json").exists(), reason="models/plate-seq not built")
@pytest.mark.parametrize("backend", ["tflite", "onnx"])
def test_shipped_model_reads_a_rendered_plate(backend: str) -> None:
    from edge_ocr.synth.plate import render_plate

    reader = SequenceReader(MODEL, backend=backend)
    hits = 0
    for seed, text in enumerate(["ABC1234", "7XKD482", "GHT5519"]):
        plate = render_plate(text, np.random.default_rng(seed), "us", height=120)
        read = reader.read(plate.image)
        assert read.logp.shape == (32, len(ALPHABET) + 1)
        hits += read.text == text
        assert read.score(text) >= read.score(text[:-1] + ("X" if text[-1] != "X" else "Y"))
    assert hits >= 2


@pytest.mark.skipif(
    not (MODEL / "card.json").exists() or not (DATA / "bench" / "seg-and-ocr-us").is_dir(),
    reason="model or ../shared/data absent",
)
def test_bench_crops_floor() -> None:
    from edge_ocr.bench.sequence import bench_crops, collect

    rows = collect(SequenceReader(MODEL), None, bench_crops(DATA)[::4])
    acc = float(np.mean([r.seq_text == r.truth for r in rows]))
    assert acc >= 0.58, acc  # measured 61.7 % (58 of 94), plate-seq v1


@pytest.mark.skipif(
    not (MODEL / "card.json").exists() or not (DATA / "plates" / "us-nyc-crops").is_dir(),
    reason="model or ../shared/data absent",
)
def test_heldout_us_nyc_floor() -> None:
    from edge_ocr.bench.sequence import collect, us_nyc_heldout

    rows = collect(SequenceReader(MODEL), None, us_nyc_heldout(DATA))
    acc = float(np.mean([r.seq_text == r.truth for r in rows]))
    assert acc >= 0.84, acc  # measured 86.5 % (211 of 244), plate-seq v1
