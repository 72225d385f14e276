"""Turn per-character predictions into plate strings: region patterns, confusables, N-best.

The classifier sees one character at a time and cannot know that the third character of a
Brazilian plate is a letter; the plate layout can. Each position keeps its top-k alternatives plus
the usual look-alikes (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G), and a layout that fits a region pattern
picks among them. Confidence of a plate is the geometric mean of its characters' probabilities, so
plates of different lengths compare fairly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from edge_ocr.types import CharPrediction, PlateCandidate

DIGITS = frozenset("0123456789")
LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

#: Look-alikes in plate fonts, both ways. A substitute the model did not rank costs SUB_PENALTY.
CONFUSABLES: dict[str, str] = {
    "0": "ODQ",
    "O": "0DQ",
    "D": "0O",
    "Q": "0O",
    "1": "IL",
    "I": "1L",
    "L": "1I",
    "8": "B",
    "B": "8",
    "5": "S",
    "S": "5",
    "2": "Z",
    "Z": "2",
    "6": "G",
    "G": "6",
    "4": "A",
    "A": "4",
    "7": "T",
    "T": "7",
}
SUB_PENALTY = 0.3

#: Layouts per region: L letter, D digit, A either. Plates are written without separators.
REGION_PATTERNS: dict[str, tuple[str, ...]] = {
    # Brazil: old grey plates ABC1234 and Mercosur ABC1D23.
    "br": ("LLLDDDD", "LLLDLDD"),
    # Common European layouts (separators dropped): FR/IT AB123CD, ES 1234ABC, UK AB12CDE,
    # NL/BE/PL/CZ/HR mixes; German plates vary in length (1-3 letters, 1-2 letters, 1-4 digits).
    "eu": (
        "LLDDDLL",
        "DDDDLLL",
        "LLDDLLL",
        "LDDDLLL",
        "LLLDDD",
        "DLLLDDD",
        "LLDDLL",
        "DDLLLD",
        "LLLDDL",
        "LLLLDDD",
        "LLDDDDD",
        "LLLDD",
        "LLLDDD",
        "LLLDDDD",
        "LLLLDD",
        "LLLLDDDD",
        "LLLLLDDD",
        "LLDDDD",
        "LLDDD",
        "LDDD",
        "LLDD",
    ),
    # US states use many layouts that mix letters and digits freely: the length is checked here, and
    # in region "us" reads of more than US_MAX_RUNS letter/digit blocks count as generic (see below).
    "us": tuple("A" * n for n in range(2, 9)),
}
REGIONS = (*REGION_PATTERNS, "auto")

#: US standard issue is a block of letters and a block of digits, at most three blocks in all
#: (ABC1234, 123ABC, 1ABC234). In region "us" a read with more blocks is taken as a generic layout,
#: so where the model is split between look-alikes (I/1, O/0) the fewer-block reading can win.
US_MAX_RUNS = 3


def us_bars(text: str, chars: Sequence[CharPrediction]) -> str:
    """A plain bar the model calls I is read as 1 when a digit stands beside it (region us).

    Most US plate fonts draw 1 without a flag, as a bare bar like I, while the model learnt its
    1 from European and Brazilian fonts where 1 has a flag: to it a bare bar is an I. The glyph
    cannot tell them apart; the plate can, since serials group letters and digits (ABC1234,
    123ABC, 1ABC234): beside a digit the bar is a digit, between letters (ATHEIST) a letter.
    Neighbouring bars do not vote. A bar the model reads as 1 (a flagged 1) is left alone.
    """
    if len(text) != len(chars):
        return text
    out = list(text)
    for i, c in enumerate(chars):
        if c.char == "I" and out[i] == "I":
            beside = (out[j] for j in (i - 1, i + 1) if 0 <= j < len(out) and out[j] not in "1I")
            if any(ch in DIGITS for ch in beside):
                out[i] = "1"
    return "".join(out)


def runs(text: str) -> int:
    """Number of letter/digit blocks: ABC1234 -> 2, 1ABC234 -> 3, N0X218 -> 4."""
    kinds = [ch in DIGITS for ch in text]
    return sum(1 for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1])


def _best_runs(options: list[dict[str, float]], max_runs: int) -> tuple[str, float] | None:
    """Highest-probability string with at most max_runs letter/digit blocks (dynamic programming)."""
    # state: (blocks so far, last is digit) -> (log p, text)
    states: dict[tuple[int, bool], tuple[float, str]] = {(0, False): (0.0, "")}
    for opts in options:
        nxt: dict[tuple[int, bool], tuple[float, str]] = {}
        for (n, last), (lp, text) in states.items():
            for ch, prob in opts.items():
                digit = ch in DIGITS
                if not digit and ch not in LETTERS:
                    continue
                m = n + (1 if not text or digit != last else 0)
                if m > max_runs:
                    continue
                cand = (lp + math.log(max(prob, 1e-6)), text + ch)
                if (m, digit) not in nxt or cand[0] > nxt[(m, digit)][0]:
                    nxt[(m, digit)] = cand
        states = nxt
    if not states:
        return None
    lp, text = max(states.values())
    return text, lp


def fits(ch: str, cls: str) -> bool:
    return cls == "A" or (cls == "L" and ch in LETTERS) or (cls == "D" and ch in DIGITS)


def position_options(p: CharPrediction) -> dict[str, float]:
    """Every character this position could be, with a probability-like score."""
    opts = dict(p.topk) if p.topk else {p.char: p.confidence}
    for ch, prob in list(opts.items()):
        for alt in CONFUSABLES.get(ch, ""):
            opts[alt] = max(opts.get(alt, 0.0), prob * SUB_PENALTY)
    return opts


@dataclass(frozen=True)
class _Scored:
    text: str
    log_p: float
    region: str
    matches: bool
    prior: float  # how much the layout is believed: 1 specific pattern, less generic, least none

    def confidence(self) -> float:
        return math.exp(self.log_p / max(1, len(self.text)))


def _best_for(options: list[dict[str, float]], pattern: str) -> tuple[str, float] | None:
    """Highest-probability string that fits a pattern (positions are independent)."""
    if len(pattern) != len(options):
        return None
    text, log_p = [], 0.0
    for cls, opts in zip(pattern, options, strict=True):
        allowed = [(prob, ch) for ch, prob in opts.items() if fits(ch, cls)]
        if not allowed:
            return None
        prob, ch = max(allowed)
        text.append(ch)
        log_p += math.log(max(prob, 1e-6))
    return "".join(text), log_p


def _beam(options: list[dict[str, float]], n: int) -> list[tuple[str, float]]:
    """The n most probable strings over all positions, ignoring patterns."""
    beams: list[tuple[str, float]] = [("", 0.0)]
    for opts in options:
        top = sorted(opts.items(), key=lambda kv: -kv[1])[:4]
        beams = sorted(
            ((t + ch, lp + math.log(max(p, 1e-6))) for t, lp in beams for ch, p in top), key=lambda b: -b[1]
        )[:n]
    return beams


class PlateAssembler:
    """Region-aware assembly of one plate's characters into ranked candidates."""

    def __init__(
        self, region: str = "auto", n_best: int = 5, mismatch_penalty: float = 0.6, generic_prior: float = 0.9
    ) -> None:
        if region not in REGIONS:
            from edge_ocr.errors import ConfigError

            raise ConfigError(f"region: unknown {region!r} (choose from {', '.join(REGIONS)})")
        self.region = region
        self.n_best = n_best
        # A read that fits no pattern keeps this fraction of its confidence in the ranking.
        self.mismatch_penalty = mismatch_penalty
        self.generic_prior = generic_prior

    def regions(self) -> tuple[str, ...]:
        return tuple(REGION_PATTERNS) if self.region == "auto" else (self.region,)

    def candidates(self, chars: Sequence[CharPrediction]) -> list[tuple[PlateCandidate, str]]:
        """Ranked (candidate, region) pairs; the first is the read."""
        if not chars:
            return []
        options = [position_options(c) for c in chars]
        scored: dict[str, _Scored] = {}
        for region in self.regions():
            for pattern in REGION_PATTERNS[region]:
                best = _best_for(options, pattern)
                if best is not None:
                    self._keep(scored, _Scored(best[0], best[1], region, True, self._prior(pattern, best[0])))
        if self.region == "us" and 2 <= len(options) <= 8:
            blocky = _best_runs(options, US_MAX_RUNS)
            if blocky is not None:
                self._keep(scored, _Scored(blocky[0], blocky[1], "us", True, 1.0))
        fallback = "auto" if self.region == "auto" else self.region
        for text, log_p in _beam(options, self.n_best):
            found = self._region_of(text)
            if found is None:
                self._keep(scored, _Scored(text, log_p, fallback, False, self.mismatch_penalty))
            else:
                self._keep(scored, _Scored(text, log_p, found[0], True, self._prior(found[1], text)))
        ranked = sorted(scored.values(), key=self._rank_key)
        out: list[tuple[PlateCandidate, str]] = []
        for s in ranked:
            text = us_bars(s.text, chars) if self.region == "us" else s.text
            if all(text != c.plate for c, _ in out):
                out.append((PlateCandidate(text, s.confidence(), s.matches), s.region))
        return out[: self.n_best]

    def _region_of(self, text: str) -> tuple[str, str] | None:
        """(region, pattern) of the most specific pattern the text fits, if any."""
        for pattern_kind in (False, True):  # specific layouts first, then the length-only ones
            for region in self.regions():
                for pattern in REGION_PATTERNS[region]:
                    if (set(pattern) == {"A"}) != pattern_kind or len(pattern) != len(text):
                        continue
                    if all(fits(c, k) for c, k in zip(text, pattern, strict=True)):
                        return region, pattern
        return None

    def _prior(self, pattern: str, text: str = "") -> float:
        # In "auto" a length-only layout (us) must not outrank a real layout fit with look-alikes;
        # in "us" a read of more blocks than standard issue has is the generic case.
        if set(pattern) != {"A"}:
            return 1.0
        if self.region == "auto" or (self.region == "us" and runs(text) > US_MAX_RUNS):
            return self.generic_prior
        return 1.0

    @staticmethod
    def _rank_key(s: _Scored) -> float:
        return -(s.confidence() * s.prior)

    @staticmethod
    def _keep(scored: dict[str, _Scored], s: _Scored) -> None:
        old = scored.get(s.text)
        if old is None or s.prior > old.prior or (s.prior == old.prior and s.log_p > old.log_p):
            scored[s.text] = s
