"""Frame-read ranking rules (edge_ocr.reader.rank) on generated reads."""

from __future__ import annotations

from dataclasses import replace

from edge_ocr.reader.rank import (
    RankParams,
    at_edge,
    beside,
    has_digit,
    is_furniture,
    is_texture,
    line_height,
    rank_reads,
)
from edge_ocr.types import Box, CharPrediction, PlateCandidate, PlateRead

P = RankParams()


def make_read(plate: str, conf: float, box: Box) -> PlateRead:
    """A read whose characters share the box height and split its width evenly."""
    w = box.w // max(len(plate), 1)
    chars = tuple(CharPrediction(ch, conf, Box(box.x + i * w, box.y, w, box.h)) for i, ch in enumerate(plate))
    corners = ((box.x, box.y), (box.x2, box.y), (box.x2, box.y2), (box.x, box.y2))
    return PlateRead(plate, conf, "us", True, box, corners, (), chars)


def test_texture_bars_and_repeats() -> None:
    assert is_texture("1111", P)
    assert is_texture("III1L", P)
    assert is_texture("NNNN", P)
    assert is_texture("VVYV", P)
    assert not is_texture("7ABC123", P)
    assert not is_texture("1I1A2", P)  # 60 % bars, four distinct characters
    assert is_texture("", P)


def test_line_height_is_median_char_height() -> None:
    read = make_read("ABC123", 0.9, Box(0, 0, 60, 30))
    assert line_height(read) == 30.0


def test_beside_above_inside_and_apart() -> None:
    plate = Box(100, 100, 200, 100)
    assert beside(Box(150, 105, 80, 20), plate, 0.5)  # inside, near the top
    assert beside(Box(150, 60, 80, 30), plate, 0.5)  # just above
    assert not beside(Box(150, 300, 80, 30), plate, 0.5)  # far below
    assert not beside(Box(400, 100, 80, 30), plate, 0.5)  # to the side


def test_state_name_over_plate_is_dropped() -> None:
    number = make_read("ABC1234", 0.9, Box(100, 120, 220, 60))
    state = make_read("STATE", 0.99, Box(160, 100, 90, 18))
    assert is_furniture(state, [number, state], P)
    assert not is_furniture(number, [number, state], P)
    assert rank_reads([state, number], P) == [number]


def test_unsure_big_texture_cannot_silence_plate() -> None:
    plate = make_read("ABC1234", 0.95, Box(100, 120, 150, 40))
    blob = make_read("D0B8", 0.5, Box(90, 40, 300, 100))  # taller, beside, but unsure
    assert rank_reads([blob, plate], P) == [plate, blob]


def test_two_row_plate_of_equal_height_keeps_both() -> None:
    top = make_read("60B1", 0.9, Box(100, 100, 120, 40))
    bottom = make_read("49139", 0.95, Box(100, 145, 130, 40))
    assert rank_reads([top, bottom], P) == [bottom, top]


def test_fence_is_dropped_and_rest_sorted() -> None:
    fence = make_read("1111", 0.99, Box(0, 0, 100, 40))
    a = make_read("XYZ987", 0.6, Box(500, 300, 120, 40))
    b = make_read("KLM456", 0.8, Box(800, 300, 120, 40))
    assert rank_reads([fence, a, b], P) == [b, a]


def test_reads_at_the_frame_edge_or_without_digits_need_twice_the_confidence() -> None:
    stamp = make_read("20140512", 0.96, Box(0, 0, 76, 20))  # a camera timestamp in the corner
    sign = make_read("EXIT", 0.95, Box(850, 20, 80, 40))
    plate = make_read("7FR971", 0.80, Box(500, 400, 140, 70))
    weak = make_read("6HN8", 0.40, Box(100, 600, 60, 20))
    order = rank_reads([stamp, sign, weak, plate], P, frame_hw=(720, 1280))
    assert [r.plate for r in order] == ["7FR971", "20140512", "EXIT", "6HN8"]
    vanity = make_read("DUKDAWG", 0.95, Box(500, 400, 140, 70))
    assert rank_reads([weak, vanity], P, frame_hw=(720, 1280))[0].plate == "DUKDAWG"
    assert at_edge(Box(1200, 300, 79, 40), (720, 1280), P)  # 1 px short of the right border
    assert not at_edge(Box(1200, 300, 60, 40), (720, 1280), P)
    # Without a frame size only the digit sign counts: the corner timestamp keeps its place.
    assert [r.plate for r in rank_reads([plate, stamp], P)] == ["20140512", "7FR971"]


def test_a_digit_the_candidates_also_spell_as_a_letter_does_not_count() -> None:
    sign = make_read("0NLY", 0.85, Box(850, 60, 80, 40))
    plate = make_read("CWW2245", 0.72, Box(650, 340, 150, 60))
    assert has_digit(sign)
    word = replace(sign, candidates=(PlateCandidate("0NLY", 0.85, True), PlateCandidate("ONLY", 0.7, True)))
    assert not has_digit(word)
    assert [r.plate for r in rank_reads([word, plate], P, frame_hw=(720, 1280))] == ["CWW2245", "0NLY"]
    real = replace(
        plate, candidates=(PlateCandidate("CWW2245", 0.72, True), PlateCandidate("CWW224S", 0.5, True))
    )
    assert has_digit(real)  # one swapped digit still leaves digits


def test_two_digits_count_even_when_look_alikes_could_spell_both_away() -> None:
    read = make_read("MF2Y8X", 0.88, Box(200, 190, 130, 60))
    spelled = replace(
        read, candidates=(PlateCandidate("MF2Y8X", 0.88, True), PlateCandidate("MFZYBX", 0.59, True))
    )
    assert has_digit(spelled)
    sign = make_read("S474", 0.48, Box(600, 100, 160, 60))
    assert [r.plate for r in rank_reads([sign, spelled], P)] == ["MF2Y8X", "S474"]
