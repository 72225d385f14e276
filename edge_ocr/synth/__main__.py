"""`python -m edge_ocr.synth --out DIR [--n N] [--seed S] [--styles us,eu]`: write sample photos."""

from __future__ import annotations

import argparse
import sys

from edge_ocr.errors import EdgeOcrError
from edge_ocr.synth.samples import write_samples
from edge_ocr.synth.styles import STYLES


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edge_ocr.synth", description=__doc__)
    ap.add_argument("--out", required=True, help="folder to write the samples into")
    ap.add_argument("--n", type=int, default=6, help="number of scenes (default 6)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--styles", default="us", help=f"comma-separated, of {','.join(sorted(STYLES))}")
    ap.add_argument("--no-crops", action="store_true", help="skip the plate crops")
    args = ap.parse_args(argv)
    styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    bad = [s for s in styles if s not in STYLES]
    if bad or args.n < 1:
        ap.error(f"unknown style(s) {bad}" if bad else "--n must be at least 1")
    try:
        made = write_samples(args.out, args.n, args.seed, styles, crops=not args.no_crops)
    except (EdgeOcrError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {len(made.scenes)} scenes and {len(made.crops)} crops; truth in {made.truth}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
