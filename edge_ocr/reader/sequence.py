"""CTC sequence line reader: a second, independent reader of a whole plate line.

The contour reader classifies characters one by one, so it cannot tell look-alikes (O/0, 8/B) from
context nor notice a dropped end character. This model reads the whole rectified line at once and
gives per-timestep log-probabilities; `ctc_log_likelihood` then scores any candidate string exactly
(forward algorithm), which lets the contour reader's N-best list be judged by a second opinion.

Device side: numpy, OpenCV and edge_ocr.backends only (never TensorFlow).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_ocr.backends import file_key, make_backend
from edge_ocr.errors import ModelError
from edge_ocr.reader.seqframe import FRAMINGS, cut, frame_for
from edge_ocr.types import CharPrediction

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BLANK = len(ALPHABET)  # the CTC blank is the last class (index 36)
INPUT_H, INPUT_W = 32, 128


def to_grey(img: np.ndarray) -> np.ndarray:
    """BGR, BGRA or grey uint8 -> grey uint8 (the model was trained on grey only)."""
    if img.ndim == 3 and img.shape[2] == 4:
        return np.asarray(cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY))
    if img.ndim == 3:
        return np.asarray(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    return img


def side_by_side(grey: np.ndarray, split: float = 0.5) -> np.ndarray:
    """Two-row plate -> one line: the top row is put left of the bottom row.

    A height-collapsing CTC model reads left to right only, so the rows must be laid end to end;
    `split` is the row boundary as a fraction of the height (0.5 when unknown).
    """
    h, w = grey.shape[:2]
    cut = int(round(min(0.8, max(0.2, split)) * h))
    top, bottom = grey[:cut], grey[cut:]
    hh = max(top.shape[0], bottom.shape[0])
    top = cv2.resize(top, (w, hh), interpolation=cv2.INTER_LINEAR)
    bottom = cv2.resize(bottom, (w, hh), interpolation=cv2.INTER_LINEAR)
    return np.hstack([top, bottom])


def normalise(line: np.ndarray) -> np.ndarray:
    """Resize to the model input and stretch contrast (2nd-98th percentile -> 0..1).

    The stretch makes dark night crops and washed-out ones look alike to the model.
    """
    return stretch(cv2.resize(line, (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA))


def stretch(small: np.ndarray) -> np.ndarray:
    """Map the 2nd-98th grey percentiles of a model-sized image to 0..1 (training shares this)."""
    f = small.astype(np.float32)
    lo, hi = np.percentile(f, (2.0, 98.0))
    return np.clip((f - lo) / max(8.0, float(hi - lo)), 0.0, 1.0).astype(np.float32)


def plate_input(img: np.ndarray, rows: int = 1, split: float = 0.5) -> np.ndarray:
    """A BGR or grey plate crop -> float32 (INPUT_H, INPUT_W) in [0, 1]; rows=2 lays rows side by side."""
    grey = to_grey(img)
    if rows == 2:
        grey = side_by_side(grey, split)
    return normalise(grey)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically safe log-softmax over the last axis (the model outputs raw logits)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    return (z - np.log(np.exp(z).sum(axis=-1, keepdims=True))).astype(np.float32)


def greedy_decode(logp: np.ndarray, alphabet: str = ALPHABET) -> tuple[str, float]:
    """Best path (T, C) -> (text, confidence): collapse repeats, drop blanks.

    The confidence is the probability of the best path itself (exp of its summed log-probs), a lower
    bound on the text's probability, cheap and monotone in how sure every frame was.
    """
    best = logp.argmax(axis=-1)
    score = float(logp[np.arange(len(best)), best].sum())
    blank = len(alphabet)
    out: list[str] = []
    prev = -1
    for k in best.tolist():
        if k != prev and k != blank:
            out.append(alphabet[k])
        prev = k
    return "".join(out), float(np.exp(score))


def _extended(texts: Sequence[str], alphabet: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blank-interleaved label ids (K, S) padded with blanks, the skip mask and each text's last state."""
    blank = len(alphabet)
    s = max(3, 2 * max((len(t) for t in texts), default=0) + 1)
    ext = np.full((len(texts), s), blank, np.int64)
    for k, t in enumerate(texts):
        ext[k, 1 : 2 * len(t) : 2] = [alphabet.index(c) for c in t]
    skip = np.zeros(ext.shape, bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    last = np.array([2 * len(t) for t in texts], np.int64)
    return ext, skip, last


def ctc_log_likelihoods(logp: np.ndarray, texts: Sequence[str], alphabet: str = ALPHABET) -> np.ndarray:
    """Exact log P(text | frames) under CTC for every text at once: the sum over all alignments.

    Forward algorithm over the label extended with blanks (b t1 b t2 ... b): a state is reached from
    itself, the state before, or two before when that skips a blank between two *different*
    characters, which is why "AA" needs a blank between its letters. All candidates run in one
    (K, S) array so scoring an N-best list costs one pass over the frames. Texts with characters
    outside `alphabet` get -inf.
    """
    ok = [all(c in alphabet for c in t) for t in texts]
    good = [t for t, k in zip(texts, ok, strict=True) if k]
    out = np.full(len(texts), -np.inf)
    if not good or logp.shape[0] == 0:
        return out
    out[np.array(ok)] = _forward(np.exp(logp.astype(np.float64)), *_extended(good, alphabet))
    return out


def _forward(prob: np.ndarray, ext: np.ndarray, skip: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The forward pass in probability space, rescaled every frame (cheaper than log-sum-exp)."""
    emit = prob[:, ext]  # (T, K, S)
    rows = np.arange(ext.shape[0])
    buf = np.zeros((ext.shape[0], ext.shape[1] + 2))
    alpha = np.zeros(ext.shape)
    alpha[:, 0] = emit[0, :, 0]
    alpha[:, 1] = np.where(last > 0, emit[0, :, 1], 0.0)
    log_scale = np.zeros(ext.shape[0])
    for t in range(1, prob.shape[0]):
        buf[:, 2:] = alpha
        alpha = (alpha + buf[:, 1:-1] + skip * buf[:, :-2]) * emit[t]
        c = alpha.max(axis=1)
        c[c <= 0] = 1.0
        alpha /= c[:, None]
        log_scale += np.log(c)
    end = alpha[rows, last] + np.where(last > 0, alpha[rows, np.maximum(last - 1, 0)], 0.0)
    with np.errstate(divide="ignore"):
        return np.log(end) + log_scale


def ctc_log_likelihood(logp: np.ndarray, text: str, alphabet: str = ALPHABET) -> float:
    """Exact CTC log-likelihood of one text (see ctc_log_likelihoods)."""
    return float(ctc_log_likelihoods(logp, [text], alphabet)[0])


def fuse(
    candidates: Sequence[tuple[str, float]],
    logp: np.ndarray,
    weight: float,
    absent: float,
    alphabet: str = ALPHABET,
    keep: float = 0.0,
    length: int | None = None,
) -> tuple[str, float]:
    """Pick the plate among the contour reader's N-best and the sequence model's own best path.

    score = log(contour confidence) + weight * CTC log-likelihood, + `keep` for the contour reader's
    first choice (candidates[0]), so the sequence model overrides it only by that margin; the best
    path, when the contour reader did not propose it, gets `absent` as its contour log-score. Two
    independent readers rarely make the same mistake, so the product of their likelihoods ranks
    candidates better than either alone. Returns (plate, softmax share of its score among the
    candidates). `length`: only texts of that many characters compete (a frame's rule, fusion.py).
    """
    texts = [c for c, _ in candidates]
    base = [float(np.log(max(p, 1e-9))) for _, p in candidates]
    if base:
        base[0] += keep
    greedy, _ = greedy_decode(logp, alphabet)
    if greedy and greedy not in texts:
        texts.append(greedy)
        base.append(absent)
    if length is not None:  # before the CTC scores: a text that cannot win costs no forward pass
        kept = [k for k, t in enumerate(texts) if len(t) == length]
        texts, base = [texts[k] for k in kept], [base[k] for k in kept]
    if not texts:
        return "", 0.0
    ll = np.maximum(ctc_log_likelihoods(logp, texts, alphabet), -1e4)
    score = np.array(base) + weight * ll
    share = np.exp(score - score.max())
    i = int(score.argmax())
    return texts[i], float(share[i] / share.sum())


@dataclass(frozen=True)
class SequenceRead:
    """What the sequence model says about one crop: its best path and the frames to score others."""

    text: str
    confidence: float
    logp: np.ndarray  # (T, len(alphabet) + 1) log-probabilities, blank last

    def score(self, candidate: str) -> float:
        """Exact CTC log-likelihood of `candidate` (letters and digits, upper case)."""
        return ctc_log_likelihood(self.logp, candidate)


class SequenceReader:
    """Load plate-seq (card.json + model file) through edge_ocr.backends and read plate crops.

    `backend` is "tflite" (LiteRT, the default) or "onnx"; `fmt` is "int8" or "float".
    """

    def __init__(
        self, model_dir: str | Path, backend: str = "tflite", fmt: str = "int8", threads: int = 1
    ) -> None:
        self.model_dir = Path(model_dir)
        self.card = _read_card(self.model_dir / "card.json")
        entry = self.card.get("files", {}).get(file_key(backend, fmt))
        if not entry:
            raise ModelError(f"{self.model_dir / 'card.json'}: no {backend} {fmt} file")
        self.path = self.model_dir / str(entry["path"])
        if not self.path.is_file():
            raise ModelError(f"{self.path}: model file not found")
        self.alphabet = str(self.card.get("alphabet", ALPHABET))
        # which region of a crop the model reads (seqframe.py); cards before v3 have none: the whole crop
        self.framing = str(self.card.get("input", {}).get("framing", "crop"))
        if self.framing not in FRAMINGS:
            raise ModelError(f"{self.model_dir / 'card.json'}: unknown input framing {self.framing!r}")
        self._be = make_backend(backend, self.path, threads)
        if tuple(self._be.input_hwc) != (INPUT_H, INPUT_W, 1):
            raise ModelError(f"{self.path}: input {self._be.input_hwc}, expected {(INPUT_H, INPUT_W, 1)}")
        if self._be.output_size != len(self.alphabet) + 1:
            raise ModelError(f"{self.path}: {self._be.output_size} classes, expected alphabet + blank")

    def log_probs(self, crops: list[np.ndarray], rows: int = 1, split: float = 0.5) -> np.ndarray:
        """Crops (BGR or grey) -> (N, T, C) per-timestep log-probabilities, blank last."""
        x = np.stack([plate_input(c, rows, split) for c in crops])[..., None]
        logits = self._be.run(x).reshape(len(crops), -1, len(self.alphabet) + 1)
        return log_softmax(logits)

    def read(self, crop: np.ndarray, rows: int = 1) -> SequenceRead:
        """One crop -> its best path text, confidence and the frames for scoring candidates."""
        logp = self.log_probs([crop], rows)[0]
        text, conf = greedy_decode(logp, self.alphabet)
        return SequenceRead(text, conf, logp)

    def read_line(self, crop: np.ndarray, chars: Sequence[CharPrediction]) -> SequenceRead:
        """Read the part of `crop` the model's framing asks for, given the contour reader's characters
        (crop coordinates): around them ("chars") or the whole crop ("crop"); rows from the chars."""
        f = frame_for(self.framing, chars, crop.shape)
        logp = self.log_probs([cut(crop, f)], f.rows, f.split)[0]
        text, conf = greedy_decode(logp, self.alphabet)
        return SequenceRead(text, conf, logp)


def _read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ModelError(f"{path}: unreadable model card: {e}") from e
    if not isinstance(card, dict):
        raise ModelError(f"{path}: model card is not a JSON object")
    return card
