from __future__ import annotations

import pytest

from edge_ocr.errors import ConfigError
from edge_ocr.reader.assemble import PlateAssembler, position_options
from edge_ocr.types import Box, CharPrediction


def cp(*topk: tuple[str, float]) -> CharPrediction:
    return CharPrediction(topk[0][0], topk[0][1], Box(0, 0, 1, 1), tuple(topk))


def plate(text: str, p: float = 0.9) -> list[CharPrediction]:
    return [cp((c, p)) for c in text]


def test_br_pattern_fixes_confusables_both_ways() -> None:
    # "A8C123O": 8 in a letter slot, O in a digit slot; no BR layout fits until both are swapped.
    chars = plate("A") + [cp(("8", 0.6), ("B", 0.3))] + plate("C123") + [cp(("O", 0.7))]
    top, region = PlateAssembler("br").candidates(chars)[0]
    assert (top.plate, region, top.matches_pattern) == ("ABC1230", "br", True)


def test_mercosur_layout_is_recognised() -> None:
    top, region = PlateAssembler("br").candidates(plate("BRA2E19"))[0]
    assert (top.plate, top.matches_pattern) == ("BRA2E19", True)
    top, _ = PlateAssembler("br").candidates(plate("BRA2E1") + [cp(("G", 0.8))])[0]
    assert top.plate == "BRA2E16"


def test_us_keeps_mixed_layouts_and_checks_length() -> None:
    asm = PlateAssembler("us")
    top, _ = asm.candidates(plate("7ABC123"))[0]
    assert (top.plate, top.matches_pattern) == ("7ABC123", True)
    top, _ = asm.candidates(plate("ABCDEFGHJ"))[0]  # 9 characters: no US layout
    assert not top.matches_pattern


def test_eu_layout_and_auto_picks_specific_region() -> None:
    top, region = PlateAssembler("eu").candidates(plate("AB123CD"))[0]
    assert (top.plate, region, top.matches_pattern) == ("AB123CD", "eu", True)
    # In auto, a specific layout reached through a ranked alternative beats the length-only US one.
    chars = plate("A") + [cp(("8", 0.6), ("B", 0.3))] + plate("C1234")
    top, region = PlateAssembler("auto").candidates(chars)[0]
    assert (top.plate, region) == ("ABC1234", "br")


def test_candidates_are_ranked_unique_and_confidence_is_geometric_mean() -> None:
    chars = [cp(("A", 0.5), ("4", 0.4)), cp(("B", 0.8)), cp(("C", 0.8)), cp(("1", 0.8))]
    ranked = PlateAssembler("us", n_best=4).candidates(chars)
    texts = [c.plate for c, _ in ranked]
    assert len(set(texts)) == len(texts)
    assert ranked[0][0].plate == "ABC1"
    assert ranked[0][0].confidence == pytest.approx((0.5 * 0.8**3) ** 0.25)
    assert "4BC1" in texts


def test_confusable_substitutes_are_penalised() -> None:
    opts = position_options(cp(("0", 0.9)))
    assert opts["0"] == 0.9 and 0 < opts["O"] < 0.9 and "D" in opts and "Q" in opts


def test_empty_and_unknown_region() -> None:
    assert PlateAssembler("auto").candidates([]) == []
    with pytest.raises(ConfigError, match="region"):
        PlateAssembler("mars")


def test_us_blocks_settle_look_alikes_the_model_is_split_on() -> None:
    from edge_ocr.reader.assemble import runs

    assert [runs(t) for t in ("ABC1234", "123ABC", "1ABC234", "N0X218", "")] == [2, 2, 3, 4, 0]
    # N 0/O X 2 1 8: the model leans to 0 (four blocks); O gives the standard two.
    split = plate("N") + [cp(("0", 0.5), ("O", 0.4))] + plate("X218")
    assert PlateAssembler("us").candidates(split)[0][0].plate == "NOX218"
    # A sure 0 stays: the blocks only decide where the model is split.
    sure = plate("N") + [cp(("0", 0.95), ("O", 0.03))] + plate("X218")
    assert PlateAssembler("us").candidates(sure)[0][0].plate == "N0X218"
    # Vanity plates of one block are untouched.
    assert PlateAssembler("us").candidates(plate("DUKDAWG"))[0][0].plate == "DUKDAWG"


def test_a_bare_bar_beside_a_digit_is_a_one_in_region_us() -> None:
    def bars(text: str) -> list[CharPrediction]:  # the model calls each bar I, unsure of the 1
        return [cp(("I", 0.8), ("1", 0.1)) if c == "|" else cp((c, 0.9)) for c in text]

    us = PlateAssembler("us")
    assert us.candidates(bars("25|RGF"))[0][0].plate == "251RGF"
    assert us.candidates(bars("|23SAM"))[0][0].plate == "123SAM"
    assert us.candidates(bars("ATHE|ST"))[0][0].plate == "ATHEIST"  # among letters it is a letter
    assert us.candidates(bars("627WW|"))[0][0].plate == "627WWI"
    assert us.candidates(bars("|699|"))[0][0].plate == "16991"
    tops = [c.plate for c, _ in us.candidates(bars("25|RGF"))]
    assert len(tops) == len(set(tops))
    # A flagged 1 the model reads as 1 stays, and other regions keep the model's reading.
    assert us.candidates(plate("BB1B001"))[0][0].plate == "BB1B001"
    assert PlateAssembler("auto").candidates(bars("25|RGF"))[0][0].plate == "25IRGF"
