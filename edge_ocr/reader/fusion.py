"""The second reader's stage: the CTC sequence model judges the contour reader's N-best plates.

The contour reader classifies characters one by one; the sequence model (sequence.py) reads the
whole rectified line at once, so the two rarely make the same mistake. Every contour candidate is
scored by the sequence model's exact CTC likelihood, the sequence model's own best path joins them,
and the combined score (log contour confidence + weight x CTC log-likelihood) decides. A region
format is only a prior then: the assembler's pattern-fitting candidates compete with the sequence
model's reading, and where both readers read a character otherwise, the pattern cannot force it.
The weight and the score given to a best path the contour reader did not propose were chosen on the
held-out split of us-nyc-crops (never on bench/) and come from the model's card.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ocr.backends import file_key
from edge_ocr.errors import ConfigError
from edge_ocr.reader.line import LineRead, Ranked
from edge_ocr.reader.rank import better_of
from edge_ocr.reader.sequence import SequenceRead, SequenceReader, ctc_log_likelihoods, fuse, greedy_decode
from edge_ocr.types import Box, CharPrediction, PlateCandidate, PlateRead

READERS = ("auto", "fused", "contour", "sequence")
SECOND_CUT = ("always", "unsure")

#: `auto` fuses on whole frames too (session 7). The first rule did not: there the fused confidence (the
#: winner's share of the candidates' combined scores) is high for texture read as a plate, so plate-free
#: frames gave 1.10 false plates each against the contour reader's 0.42. Now, in a frame, the read keeps
#: the contour reader's confidence and only candidates as long as its first read compete. Chosen on held-
#: out crops composited into the choosing half of negatives/ (edge_ocr.bench.fusion_photos --half 0):
#: first read 40.9 -> 51.6 %, false plates per plate-free frame 0.415 -> 0.390; bench/endtoend-us,
#: measured after: first read 61.3 -> 63.1 %, negatives 129 of 300 frames both (contour and fused).
AUTO_FRAMES = True


@dataclass(frozen=True)
class FusionParams:
    # auto: fused when models/plate-seq is installed (on whole frames only while AUTO_FRAMES is on);
    # fused: always; contour: the character reader alone; sequence: the CTC model's own
    # reading (the contour reader still finds and checks the line)
    reader: str = "auto"
    weight: float | None = None  # None: the card's
    absent: float | None = None  # contour log-score of a best path the contour reader did not propose
    keep: float | None = None  # log-score bonus of the contour reader's first choice (None: the card's)
    # in a frame only candidates as long as the contour reader's first read compete: a longer best path
    # turned texture the contour reader had read too short to be a plate into "plates" (negatives).
    # None: only where the detector proposes texture too (the line finder's rows); a learned detector
    # passes only what its score threshold calls a plate, and there the rule cost 11.2 pp of first reads
    # with no change in false plates (session 15, edge_ocr.bench.fusion_photos --half 0 --detector cnn:
    # 47.4 -> 58.6 %, 0.037 false plates per plate-free frame both)
    frame_same_length: bool | None = None
    # a learned box is cut two ways (its character row, the box itself): "always" reads both (session 18);
    # "unsure" (session 20) reads the box only when the row's read fits no region pattern or the sequence
    # model's own best path on the row disagrees with it (choose_cut, fusion.sure). Held-out, by a rule
    # written first: the same first reads (swap photos 137 of 168, composites 258 of 430, negatives half 0
    # 0.006 false plates per frame both) for 29-38 % less CPU per photo (us-swap-heldout medians)
    second_cut: str = "unsure"


def make_stage(
    model_dir: Path, backend: str, fmt: str, threads: int, params: FusionParams
) -> SequenceStage | None:
    """The stage the params ask for; None for the contour reader alone (or auto without the model)."""
    if params.reader not in READERS:
        raise ConfigError(f"reader: unknown {params.reader!r}; choose from {', '.join(READERS)}")
    if params.second_cut not in SECOND_CUT:
        raise ConfigError(f"second_cut: unknown {params.second_cut!r}; choose from {', '.join(SECOND_CUT)}")
    if params.reader == "contour" or (params.reader == "auto" and not (model_dir / "card.json").is_file()):
        return None
    return SequenceStage(model_dir, backend, _shipped_format(model_dir, backend, fmt), threads, params)


def _shipped_format(model_dir: Path, backend: str, fmt: str) -> str:
    """`fmt` when the sequence model ships it, else int8 (plate-seq ships int8 only: `--format
    float` asks for the character model's float file, and the sequence model then runs in int8)."""
    try:
        files = json.loads((model_dir / "card.json").read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError):
        return fmt  # SequenceReader reports the broken card
    return fmt if file_key(backend, fmt) in files else "int8"


class SequenceStage:
    """Re-ranks a LineRead's candidates with the sequence model (see the module docstring)."""

    def __init__(self, model_dir: Path, backend: str, fmt: str, threads: int, params: FusionParams) -> None:
        self.model = SequenceReader(model_dir, backend, fmt, threads)
        fusion = self.model.card.get("metrics", {}).get("fusion", {})
        self.weight = float(params.weight if params.weight is not None else fusion.get("weight", 1.0))
        self.absent = float(params.absent if params.absent is not None else fusion.get("absent", np.log(0.3)))
        self.keep = float(params.keep if params.keep is not None else fusion.get("keep", 0.0))
        self.params = params
        self._last: tuple[np.ndarray, tuple[Box, ...], SequenceRead] | None = None

    def read_line(self, crop: np.ndarray, chars: Sequence[CharPrediction]) -> SequenceRead:
        """The model's read of `chars` in `crop`; the last one is kept, so `settles` and then `apply` on
        the same line cost one model call."""
        boxes = tuple(c.box for c in chars)
        if self._last is not None and self._last[0] is crop and self._last[1] == boxes:
            return self._last[2]
        seq = self.model.read_line(crop, chars)  # framed as the model's card asks (seqframe.py)
        self._last = (crop, boxes, seq)
        return seq

    def settler(self, crop: np.ndarray) -> Callable[[LineRead], bool] | None:
        """`settles` on `crop` for LineReader.read; None where the sequence model does not fuse."""
        return None if self.params.reader == "sequence" else (lambda line: self.settles(crop, line))

    def settles(self, crop: np.ndarray, line: LineRead) -> bool:
        """The line's first plate fits a region pattern and the model's own best path on it is that plate
        (FillParams.fill_when "unsure": such a line is not searched again for missing characters)."""
        if not line.ranked or not line.ranked[0][0].matches_pattern:
            return False  # the pattern first: no model call for a line that cannot be settled
        return agrees(line.ranked[0][0], self.read_line(crop, line.chars).text)

    def apply(self, crop: np.ndarray, line: LineRead, detected: bool = False, gated: bool = False) -> LineRead:
        """The line with its candidates re-ranked (fused) or replaced by the model's reading (sequence).
        `detected`: the crop was cut from a whole frame (see AUTO_FRAMES); `gated`: by a detector that
        proposes only what its own score calls a plate (see FusionParams.frame_same_length)."""
        return self.apply_scored(crop, line, detected, gated)[0]

    def apply_scored(
        self, crop: np.ndarray, line: LineRead, detected: bool = False, gated: bool = False
    ) -> tuple[LineRead, np.ndarray | None]:
        """`apply`, and the sequence model's log-probabilities over its frame of the crop (None: not read)."""
        if not line.ranked or (detected and self.params.reader == "auto" and not AUTO_FRAMES):
            return line, None
        seq = self.read_line(crop, line.chars)
        region = line.ranked[0][1]
        if self.params.reader == "sequence":
            if not seq.text:
                return line, seq.logp
            return LineRead(line.chars, [(PlateCandidate(seq.text, seq.confidence, False), region)]), seq.logp
        cands = [(c.plate, c.confidence) for c, _ in line.ranked]
        same = self.params.frame_same_length
        length = len(cands[0][0]) if detected and (not gated if same is None else same) else None
        plate, share = fuse(cands, seq.logp, self.weight, self.absent, self.model.alphabet, self.keep, length)
        # In a frame, whether a region is a plate at all stays the contour reader's call (its first
        # candidate's confidence): the fused share is high for texture too (see AUTO_FRAMES).
        conf = line.ranked[0][0].confidence if detected else share
        return LineRead(line.chars, _reranked(line.ranked, plate, conf, region)), seq.logp


def _reranked(ranked: Ranked, plate: str, conf: float, region: str) -> Ranked:
    """The fused winner first with confidence `conf`; the other candidates keep their order."""
    if not plate:
        return ranked
    old = next((c for c, _ in ranked if c.plate == plate), None)
    top = PlateCandidate(plate, conf, old.matches_pattern if old is not None else False)
    return [(top, region)] + [(c, r) for c, r in ranked if c.plate != plate]


Scored = tuple[PlateRead | None, np.ndarray | None]  # a read and the sequence model's frames of its crop


def sure(first: Scored) -> bool:
    """The row cut's read fits a region pattern and the sequence model's best path on it is that plate."""
    read, logp = first
    # the pattern first, as in settles: no decoding for a read that cannot be sure
    return read is not None and logp is not None and read.matches_pattern and agrees(read, greedy_decode(logp)[0])


def agrees(read: PlateRead | PlateCandidate, best_path: str) -> bool:
    """A read both readers vouch for: it fits a region pattern and is the sequence model's own best path
    (`sure` for a cut's read, `SequenceStage.settles` for a chosen line)."""
    return read.matches_pattern and best_path == read.plate


def choose_cut(
    first: Scored, second: Callable[[], Scored], fused: bool, skip_sure: bool = False
) -> PlateRead | None:
    """One plate cut two ways (a learned box refined to its character row, and the box itself).

    Fused (session 18): both cuts are always read, and the read whose plate the sequence model finds
    likelier over both cuts' frames together (summed CTC log-likelihood) is kept, the first on a tie.
    A cut that lost an end character or misread a look-alike is outvoted by the frames of both cuts.
    Chosen on held-out photos with known text (edge_ocr.bench.swap_photos, negatives half 0): first reads
    132 -> 137 of 168, held-out composites (fusion_photos --half 0) 256 -> 258 of 430, false plates per
    plate-free frame 0.006 both; reading both cuts with better_of instead: 134 and 256.
    Contour reader alone: the second cut only when the first read fits no region pattern (better_of).
    `skip_sure` (FusionParams.second_cut "unsure"): fused, the second cut is not read when `sure(first)`.
    """
    read, logp = first
    if not fused:
        return better_of(read, second()[0]) if read is None or not read.matches_pattern else read
    if skip_sure and sure(first):
        return read
    other, other_logp = second()
    if read is None or other is None or logp is None or other_logp is None:
        return better_of(read, other)
    texts = [read.plate, other.plate]
    ll = ctc_log_likelihoods(logp, texts) + ctc_log_likelihoods(other_logp, texts)
    return other if ll[1] > ll[0] else read
