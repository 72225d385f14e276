"""`edge-ocr bench chars|crops|e2e|daemon`: parser builder and command for cli.py's table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_ocr.backends import FORMATS, backend_names
from edge_ocr.errors import ConfigError
from edge_ocr.paths import default_model_dir

KINDS = ("chars", "crops", "e2e", "daemon")


def build_bench_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "kind",
        choices=KINDS,
        help="chars: classifier per format/backend; crops: plate crops; "
        "e2e: full photos (+ plate-free frames); daemon: edge-ocr run on videos (frames/s, CPU, RSS, events)",
    )
    p.add_argument(
        "datasets",
        nargs="*",
        metavar="DATASET",
        help="daemon: video files; chars: loader names (default: the four real plate sources convert/ holds out from); crops/e2e: folders "
        "(default bench/seg-and-ocr-us or bench/endtoend-us under the data root)",
    )
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped plate-chars)")
    p.add_argument(
        "--backend",
        default=None,
        help=f"comma list of {','.join(backend_names())} (default: all for chars, tflite otherwise)",
    )
    p.add_argument(
        "--format", default=None, help="comma list of int8,float (default: both for chars, int8 otherwise)"
    )
    p.add_argument("--threads", type=int, default=1, help="inference and OpenCV threads (default 1)")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls/images before timing (default 5)")
    p.add_argument("--repeat", type=int, default=1, help="timed passes over the data (default 1)")
    p.add_argument("--limit", type=int, default=None, help="use at most N samples/images per dataset")
    p.add_argument("--out", type=Path, default=None, help="output folder (default runs/bench-KIND)")
    p.add_argument(
        "--compare", type=Path, default=None, metavar="OLD.json", help="print deltas against an earlier run"
    )
    p.add_argument("--errors", type=int, default=0, metavar="N", help="gallery PNG of the N worst misreads")
    _data_options(p)
    from edge_ocr.bench.daemon_cmd import add_daemon_options

    add_daemon_options(p)


def _data_options(p: argparse.ArgumentParser) -> None:
    """Where the data is and how it is scored."""
    p.add_argument("--data", default=None, help="data root (default $EDGE_OCR_DATA or ../shared/data)")
    p.add_argument(
        "--split",
        default="test",
        choices=("test", "val", "train", "all"),
        help="chars: which split of the convert/ hash split (default test = held out)",
    )
    p.add_argument(
        "--region", default="auto", help="crops/e2e: plate region for the assembler (default auto)"
    )
    p.add_argument(
        "--negatives", default=None, metavar="DIR", help="e2e: plate-free frames for false positives"
    )
    p.add_argument("--top-n", type=int, default=5, help="N of top-N accuracy (default 5)")
    p.add_argument(
        "--detector",
        default="auto",
        choices=("auto", "cnn", "lines"),
        help="e2e: plate detector (default auto: cnn when models/plate-detector is installed, else lines)",
    )
    p.add_argument(
        "--reader",
        default="auto",
        help="crops/e2e: comma list of plate text readers: fused, contour, sequence, auto "
        "(default auto: fused when models/plate-seq is installed); one run each",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="crops/e2e: a reader parameter (repeatable), as for `edge-ocr read --set`",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _resolve(args: argparse.Namespace) -> None:
    chars = args.kind == "chars"
    args.backends = [b for b in (args.backend or ("tflite,onnx" if chars else "tflite")).split(",") if b]
    args.formats = [f for f in (args.format or ("int8,float" if chars else "int8")).split(",") if f]
    for b in args.backends:
        if b not in backend_names():
            raise ConfigError(f"--backend: unknown {b!r} (choose from {', '.join(backend_names())})")
    for f in args.formats:
        if f not in FORMATS:
            raise ConfigError(f"--format: unknown {f!r} (choose from {', '.join(FORMATS)})")
    for r in str(args.reader).split(","):
        if r not in ("auto", "fused", "contour", "sequence"):
            raise ConfigError(f"--reader: unknown {r!r} (choose from auto, fused, contour, sequence)")
    if args.threads < 1 or args.repeat < 1 or args.warmup < 0 or (args.limit is not None and args.limit < 1):
        raise ConfigError("--threads and --repeat must be >= 1, --warmup >= 0, --limit >= 1")
    from edge_ocr.reader.overrides import parse_sets

    args.overrides = parse_sets(args.set)  # checked before any model loads
    args.model = args.model or default_model_dir()
    args.out = args.out or Path("runs") / f"bench-{args.kind}"


def cmd_bench(args: argparse.Namespace) -> int:
    """Run one benchmark, write JSON + Markdown + PNGs to --out and print the table (and deltas)."""
    import cv2

    from edge_ocr.bench.report import compare, load_doc, table, write_doc
    from edge_ocr.bench.run import chars_outcome, progress_fn
    from edge_ocr.bench.run_plates import plates_outcome

    _resolve(args)
    if args.kind == "daemon":
        from edge_ocr.bench.daemon_cmd import cmd_bench_daemon

        return cmd_bench_daemon(args)
    if not hasattr(args, "argv"):
        args.argv = sys.argv[2:] if len(sys.argv) > 2 else [args.kind]
    cv2.setNumThreads(args.threads)
    args.progress = progress_fn(not args.no_progress and sys.stderr.isatty())
    old = load_doc(args.compare) if args.compare else None
    args.out.mkdir(parents=True, exist_ok=True)
    outcome = chars_outcome(args) if args.kind == "chars" else plates_outcome(args.kind, args)
    js, md = write_doc(args.out, outcome.doc, outcome.plots, outcome.extra_md)
    lines = table(outcome.doc["runs"])
    if outcome.doc.get("float_vs_int8"):
        lines += ["", *outcome.extra_md]
    if old is not None:
        lines += ["", f"compared with {args.compare}:", *compare(outcome.doc, old)]
    lines += ["", f"wrote {js}, {md} and {len(outcome.plots)} PNG(s) in {args.out}"]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m edge_ocr.bench ...`) until the main CLI lists `bench`."""
    from edge_ocr.errors import EdgeOcrError

    p = argparse.ArgumentParser(prog="edge-ocr bench", description=__doc__)
    build_bench_parser(p)
    args = p.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    try:
        return cmd_bench(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EdgeOcrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
