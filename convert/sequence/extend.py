"""Add the confirmed pseudo-labelled scene plates to an existing lines cache (plate-seq v5's data).

`python -m convert.sequence pseudo` writes labels.csv + crops/ of the plates boxed in the training
scenes, read by RapidOCR and kept only where a second reading confirms them (pseudo.py). Here only
the labels one of our own readers confirmed are used (`confirmed`): RapidOCR agreeing with itself on
a second view of the crop repeats its own confusions (0/O/D, 1/I, 6/G: about a quarter of 20 such
labels looked at were wrong, against none of 20 confirmed by our readers), and a label without a
digit (a dealer frame, a model name) needs both of our readers. The rest join the training lines of
an earlier run (its renders and real crops unchanged, so a run that continues from that run's
weights sees the same data plus these), framed as that run framed its own. A pseudo label whose
plate string falls in the held-out split is dropped, so no held-out plate is ever trained on; the
labels are never used for evaluation (they are not ground truth).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from convert.sequence import lines
from convert.sequence.data import LineSample, _from_csv, split_of

SOURCE = "scenes-pseudo"


def confirmed(agree: str, plate: str) -> bool:
    """Keep a pseudo label confirmed by our contour or sequence reader (pseudo.py's `agree` column,
    e.g. `rapid_ab+contour`); without a digit, both of them."""
    ours = {"contour", "sequence"} & set(agree.split("+"))
    return bool(ours) and (any(c.isdigit() for c in plate) or len(ours) == 2)


def load_pseudo(folder: Path) -> list[LineSample]:
    return _from_csv(folder, SOURCE, keep=lambda row, text: confirmed(row.get("agree", "contour"), text))


def extend(base: Path, pseudo: Path, work: Path, log: Callable[[str], None] = print) -> dict[str, int]:
    """work/lines.pkl = base's lines.pkl + the pseudo plates of pseudo/labels.csv (training only)."""
    framing = (base / "framing.txt").read_text().strip() if (base / "framing.txt").is_file() else "tight"
    built = lines.load(base / "lines.pkl")
    found = load_pseudo(pseudo)
    samples = [s for s in found if split_of(s.text) != "test"]
    if framing == "chars":
        from convert.sequence.framing import frame_samples

        samples = frame_samples(samples, False, log)
    add = lines.build(samples)["train"]
    train = built["train"]
    train.images.extend(add.images)
    train.texts.extend(add.texts)
    train.sources.extend(add.sources)
    work.mkdir(parents=True, exist_ok=True)
    lines.save(built, work / "lines.pkl")
    (work / "framing.txt").write_text(framing)
    counts = {k: dict(Counter(v.sources)) for k, v in built.items()}
    (work / "lines_counts.json").write_text(json.dumps(counts))
    res = {"labels": len(found), "held_out_plates_dropped": len(found) - len(samples), "added": len(add)}
    log(f"extend {base} + {pseudo}: {res}; framing {framing}")
    return res
