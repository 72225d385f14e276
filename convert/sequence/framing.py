"""Frame line samples the way the device frames the sequence model's input (edge_ocr.reader.seqframe).

The device reads a crop with the contour reader first and then hands the sequence model the region
around the characters it found (`input.framing: "chars"` in the card). Training and the held-out
figures must see the same region, so here the same device contour reader runs on every sample
(real crops read again in colour from their file, as the device gets them; renders in grey) and the
same `char_frame` cuts the sample.

Training (`heldout=False`): a sample whose frame fell back to the whole crop, or whose rows disagree
with the label's (a two-row plate the segmenter read as one row), keeps its labelled framing, so the
label still matches the pixels; renders the segmenter cannot read stay as rendered. Held-out
(`heldout=True`): exactly the device path, whatever the segmenter did, so the figures are honest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
from tqdm import tqdm

from convert.sequence.data import LineSample
from edge_ocr.reader.seqframe import SeqFrame, char_frame, cut
from edge_ocr.types import CharPrediction

# The region the contour reader is told for each source (its layouts only rank candidates; the
# characters it keeps decide the frame). "auto" where a source mixes countries.
REGION = {
    "us-nyc-crops": "us",
    "br-crops": "br",
    "pl-crops": "eu",
    "synth-us": "us",
    "synth-heldout": "us",
}


def contour_chars(
    samples: list[LineSample], log: Callable[[str], None] = print
) -> list[tuple[CharPrediction, ...]]:
    """The device contour reader's final characters on every sample (crop coordinates)."""
    from edge_ocr import Reader as Device

    readers: dict[str, Device] = {}
    out = []
    for s in tqdm(samples, desc="contour chars", mininterval=30):
        region = REGION.get(s.source, "auto")
        if region not in readers:
            readers[region] = Device(region=region, reader="contour")
        img = cv2.imread(s.path, cv2.IMREAD_COLOR) if s.path else None
        if img is None or img.shape[:2] != s.image.shape[:2]:
            img = s.image
        read = readers[region].read_crop(img)
        out.append(read.chars if read is not None else ())
    log(f"contour chars: {sum(len(c) >= 3 for c in out)} of {len(out)} samples with >= 3 characters")
    return out


def framed(s: LineSample, f: SeqFrame, heldout: bool) -> LineSample:
    """`s` cut to `f` (see the module docstring for when training keeps the labelled framing)."""
    if not heldout and (f.whole or f.rows != s.rows):
        return s
    return replace(s, image=cut(s.image, f), rows=f.rows, split_y=f.split)


def frame_samples(
    samples: list[LineSample], heldout: bool, log: Callable[[str], None] = print
) -> list[LineSample]:
    """Every sample framed by the contour reader's characters, as the device will frame it."""
    chars = contour_chars(samples, log)
    out = [framed(s, char_frame(c, s.image.shape), heldout) for s, c in zip(samples, chars, strict=True)]
    moved = sum(o is not s for o, s in zip(out, samples, strict=True))
    log(f"framed {moved} of {len(out)} samples by their characters ({'held-out' if heldout else 'training'})")
    return out
