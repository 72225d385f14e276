"""plate-chars tooling without TensorFlow: font sets and cache tags, the confusion table and PNG on made-up
predictions, the paired sign test of the per-plate check, and the vn-char-boxes exclusion list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from convert.plate_chars import confusion as C
from convert.plate_chars import fonts as F
from convert.plate_chars.plates import compare, sign_test_p
from edge_ocr.synth.fonts import committed_fonts
from edge_ocr.types import PLATE_LABELS


def _ids(s: str) -> np.ndarray:
    return np.array([PLATE_LABELS.index(c) for c in s])


def test_confusion_counts_made_up_predictions() -> None:
    true = _ids("OOOO00001IIB88SZ2A")
    pred = _ids("O00Q0OO01I1888S22A")
    cm = C.confusion_matrix(true, pred)
    assert cm.sum() == len(true) and np.trace(cm) == 10
    pairs = C.pair_confusions(cm)
    assert pairs["O/0/Q"]["pairs"] == {"O>0": 2, "O>Q": 1, "0>O": 2, "0>Q": 0, "Q>O": 0, "Q>0": 0}
    assert pairs["O/0/Q"]["within"] == 5 and pairs["O/0/Q"]["n"] == 8
    assert pairs["1/I"] == {"pairs": {"1>I": 0, "I>1": 1}, "within": 1, "n": 3}
    assert pairs["8/B"]["pairs"] == {"8>B": 0, "B>8": 1}
    assert pairs["2/Z"]["pairs"] == {"2>Z": 0, "Z>2": 1} and pairs["5/S"]["within"] == 0
    assert pairs["total_within"] == 8  # the A is right and outside every group
    table = C.pair_table({"before": {"accuracy": 10 / 18, "n": 18, "pairs": pairs}})
    assert "| O>0 | 2 |" in table and "| **all groups** | **8** |" in table


def test_confusion_png_and_card_section(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 36, 500)
    pred = np.where(rng.random(500) < 0.9, y, rng.integers(0, 36, 500))
    results = {m: {"accuracy": float((pred == y).mean()), "n": 500, "pairs": {}} for m in ("v2", "v3")}
    cm = C.confusion_matrix(y, pred)
    for r in results.values():
        r["pairs"] = C.pair_confusions(cm)
    png = tmp_path / "confusion.png"
    C.plot({"v2": cm, "v3": cm}, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "card.json").write_text(json.dumps({"metrics": {}}))
    (tmp_path / "MODEL_CARD.md").write_text("# card\n\ntext\n")
    for _ in range(2):  # a second write replaces the section
        C.write_card_section(tmp_path, results, png)
    md = (tmp_path / "MODEL_CARD.md").read_text()
    assert md.count(C.SECTION) == 1 and "![confusion matrices](confusion.png)" in md
    card = json.loads((tmp_path / "card.json").read_text())
    assert set(card["metrics"]["confusion_pairs"]) == {"v2", "v3"}


def _fake_plate_fonts(root: Path) -> Path:
    """Committed fonts copied under plate-like names, one of them a font that draws O as 0."""
    src = committed_fonts()
    (root / "a").mkdir(parents=True)
    shutil.copy(src[0], root / "a" / "RG2014C.ttf")
    shutil.copy(src[1], root / "a" / "Plate-Bold.ttf")
    return root


def test_font_sets_and_cache_tags(tmp_path: Path) -> None:
    d = _fake_plate_fonts(tmp_path / "fonts")
    system, plate = F.font_set("system"), F.font_set("plate", d)
    assert F.font_set("committed") == committed_fonts() and plate[: len(system)] == system
    assert [p.name for p in plate[len(system) :]] == ["Plate-Bold.ttf", "RG2014C.ttf"]
    tags = {F.cache_tag(n, F.font_set(n, d)) for n in F.FONT_SETS}
    assert len(tags) == 3 and F.cache_tag("committed", committed_fonts()) == ""
    (d / "a" / "Plate-Bold.ttf").rename(d / "a" / "Other-Bold.ttf")  # same size, other fonts
    assert F.cache_tag("plate", F.font_set("plate", d)) not in tags
    assert "RG2014C.ttf" not in [p.name for p in F.without_o(plate)]
    with pytest.raises(Exception, match="no fonts folder"):
        F.font_set("plate", tmp_path / "missing")


def test_renderer_never_draws_o_in_a_font_where_o_is_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edge_ocr.synth as synth

    d = _fake_plate_fonts(tmp_path / "fonts")
    used: list[tuple[str, tuple[str, ...]]] = []

    def fake(ch: str, rng: np.random.Generator, fonts: tuple[Path, ...] = ()) -> np.ndarray:
        used.append((ch, tuple(p.name for p in fonts)))
        return np.zeros((48, 32), np.uint8)

    monkeypatch.setattr(synth, "render_char", fake)
    render = F.char_renderer(F.font_set("plate", d))
    rng = np.random.default_rng(0)
    render("O", rng)
    render("0", rng)
    assert "RG2014C.ttf" not in used[0][1] and "RG2014C.ttf" in used[1][1]
    monkeypatch.undo()
    tile = F.char_renderer((d / "a" / "Plate-Bold.ttf",))("A", rng)  # the real renderer, a plate font
    assert tile.shape == (48, 32) and tile.dtype == np.uint8 and tile.std() > 10


def test_sign_test_and_paired_compare() -> None:
    assert sign_test_p(0, 0) == 1.0 and sign_test_p(3, 3) == 1.0
    assert sign_test_p(0, 6) == pytest.approx(2 / 64)
    c = compare(["AB1", "CD2", "EF3", "GH4"], ["AB1", "CD2", "XX", "GH4"], ["AB1", "XX", "EF3", "GH4"])
    assert (c["a"], c["b"], c["gained"], c["lost"]) == (3, 3, 1, 1) and c["p"] == 1.0


def test_vn_exclusion_list_is_found() -> None:
    """convert/vn_misaligned.txt must be read from plate_chars/ (it was silently empty after the move)."""
    from convert.plate_chars.data import VN_MISALIGNED, vn_excluded

    assert VN_MISALIGNED.is_file() and len(vn_excluded()) > 300
