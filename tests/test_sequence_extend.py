"""convert/sequence/extend.py: pseudo-labelled plates join the training lines, never the held-out ones."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from convert.sequence import lines
from convert.sequence.data import split_of
from convert.sequence.extend import SOURCE, confirmed, extend


def _plate(part: str, start: int) -> str:
    """The first plate string ABC<n> (n >= start) that falls in `part` of the split."""
    n = start
    while split_of(f"ABC{n}") != part:
        n += 1
    return f"ABC{n}"


def test_pseudo_plates_join_training_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    img = lambda: rng.integers(0, 255, (30, 110), dtype=np.uint8)  # noqa: E731
    base = tmp_path / "base"
    built = {
        "train": lines.Lines([img()], ["XYZ123"], ["us-nyc-crops"]),
        "test": lines.Lines([img()], ["XYZ124"], ["us-nyc-crops"]),
    }
    lines.save(built, base / "lines.pkl")
    pseudo = tmp_path / "pseudo"
    (pseudo / "crops").mkdir(parents=True)
    train_a, train_b, held = _plate("train", 100), _plate("train", 500), _plate("test", 100)
    with open(pseudo / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "plate", "agree"])
        rows = ((train_a, "rapid_ab+contour"), (held, "sequence"), (train_b, "contour"), ("ABC777", "rapid_ab"))
        for k, (text, agree) in enumerate(rows):
            cv2.imwrite(str(pseudo / "crops" / f"{k}.png"), img())
            w.writerow([f"{k}.png", text, agree])
    res = extend(base, pseudo, tmp_path / "work", log=lambda _: None)
    assert res == {"labels": 3, "held_out_plates_dropped": 1, "added": 2}
    out = lines.load(tmp_path / "work" / "lines.pkl")
    assert out["train"].texts == ["XYZ123", train_a, train_b]
    assert out["train"].sources == ["us-nyc-crops", SOURCE, SOURCE]
    assert out["test"].texts == ["XYZ124"]  # held-out lines untouched; the held-out pseudo plate is nowhere
    assert (tmp_path / "work" / "framing.txt").read_text() == "tight"


def test_only_labels_our_readers_confirmed() -> None:
    assert confirmed("rapid_ab+contour", "ABC123") and confirmed("sequence", "ABC123")
    assert not confirmed("rapid_ab", "ABC123")  # RapidOCR agreeing with itself repeats its confusions
    assert not confirmed("rapid_ab+contour", "PASSATCC")  # no digit: a model name or dealer frame, maybe
    assert confirmed("contour+sequence", "IMGROOT")  # both of ours read it: a vanity plate
