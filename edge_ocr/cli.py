"""`edge-ocr` command line: one small parser builder + one command function per subcommand.

Exit codes: 0 ok, 1 some input failed (the others were still processed), 2 usage, config or model
errors. Library errors arrive as EdgeOcrError subclasses and are turned into messages here only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_ocr.errors import ConfigError, EdgeOcrError, ModelError, SourceError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm")


@dataclass(frozen=True)
class Command:
    help: str
    build: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def build_read_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="FILE|DIR", help="images, or folders of images")
    p.add_argument("--crop", action="store_true", help="each image is a plate crop: skip detection")
    p.add_argument("--region", default="auto", choices=("auto", "us", "eu", "br"))
    p.add_argument("--backend", default="tflite", choices=("tflite", "onnx"))
    p.add_argument("--format", dest="fmt", default="int8", choices=("int8", "float"))
    p.add_argument("--model", metavar="DIR", default=None, help="model folder (default: models/plate-chars)")
    p.add_argument("--threads", type=_positive_int, default=1, help="threads for inference and OpenCV (default 1: one core)")
    p.add_argument("--annotate", metavar="OUTDIR", default=None, help="write annotated copies here")
    p.add_argument(
        "--detector",
        default="auto",
        choices=("auto", "cnn", "lines"),
        help="plate detector: lines (character-line finder), cnn (learned, models/plate-detector, "
        "each box refined to its character row); auto: cnn when its model is installed, else lines",
    )
    p.add_argument(
        "--reader",
        default="auto",
        choices=("auto", "fused", "contour", "sequence"),
        help="plate text: fused (character CNN N-best judged by the CTC sequence model, models/plate-seq), "
        "contour (character CNN alone), sequence (CTC model alone); auto: fused when models/plate-seq is installed",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a reader parameter (repeatable), e.g. --set rescue=0 --set second_cut=always: the reading before "
        "session 20 (edge_ocr/reader/overrides.py lists the names)",
    )
    p.add_argument(
        "--mode",
        default="plate",
        choices=("plate", "text"),
        help="text: lines of characters on a plain background (model default: models/chars62)",
    )


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return v


def iter_inputs(inputs: Sequence[str]) -> Iterator[Path]:
    """Files as given (even with odd suffixes: a bad file is reported), folders expanded sorted.

    In a folder, a link that cannot be followed (a loop, a dangling target) is yielded too, so that
    reading it reports why instead of skipping it without a word; symlinked folders are not entered."""
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if _folder_entry(p))
        else:
            yield path


def _folder_entry(p: Path) -> bool:
    try:
        mode = p.stat().st_mode
    except OSError:
        return p.is_symlink()  # a loop or a dangling link: reported when read
    return p.suffix.lower() in IMAGE_SUFFIXES and not stat.S_ISDIR(mode)


def cmd_read(args: argparse.Namespace) -> int:
    """Read plates (or, with --mode text, lines of text) from each image; one JSON object per image."""
    import cv2

    # OpenCV's own worker pool otherwise spins beside the reader (sched_yield): `read --threads 1` used
    # 1.6 cores (9.2 s of CPU in 5.7 s on bench/endtoend-us, session 16)
    cv2.setNumThreads(args.threads)
    if args.mode == "text":
        from edge_ocr.text.cli import text_read_one

        return read_all(args.inputs, args.annotate, text_read_one(args))
    from edge_ocr.reader.overrides import parse_sets
    from edge_ocr.reader.pipeline import Reader

    reader = Reader(
        args.model,
        backend=args.backend,
        fmt=args.fmt,
        region=args.region,
        threads=args.threads,
        detector=args.detector,
        reader=args.reader,
        **parse_sets(args.set),
    )
    return read_all(
        args.inputs, args.annotate, lambda path, outdir: _read_one(reader, path, args.crop, outdir)
    )


def read_all(
    inputs: Sequence[str], annotate: str | None, read_one: Callable[[Path, Path | None], None]
) -> int:
    """Run read_one on every input file (annotations to `annotate` when given); a bad file is
    reported on stderr with its name and the rest still run. Exit code 1 if any file failed."""
    outdir = Path(annotate) if annotate else None
    if outdir is not None:
        try:
            outdir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            why = "exists and is not a folder" if isinstance(e, FileExistsError) else e.strerror or str(e)
            raise ConfigError(f"--annotate {outdir}: {why}") from e
    failed = 0
    for path in iter_inputs(inputs):
        try:
            read_one(path, outdir)
        except SourceError as e:
            print(f"edge-ocr: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def _read_one(reader: Any, path: Path, crop: bool, outdir: Path | None) -> None:
    """Decode, read, print one JSON line, annotate; `ms` covers decoding and reading."""
    from edge_ocr.imageio import load_image

    t0 = time.perf_counter()
    image = load_image(path)
    if crop:
        read = reader.read_crop(image)
        reads = [read] if read is not None else []
    else:
        reads = reader.read_frame(image)
    ms = 1000.0 * (time.perf_counter() - t0)
    h, w = image.shape[:2]
    out = {
        "file": str(path),
        "ms": round(ms, 2),
        "width": int(w),
        "height": int(h),
        "plates": [r.to_json() for r in reads],
    }
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    if outdir is not None:
        from edge_ocr.annotate import annotate, write_annotated

        write_annotated(outdir, path, annotate(image, reads))


def build_info_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="DIR", default=None, help="model folder (default: models/plate-chars)")


def cmd_info(args: argparse.Namespace) -> int:
    """Versions, available backends and a summary of the model card."""
    import platform

    from edge_ocr import __version__
    from edge_ocr.backends import available_backends, backend_names
    from edge_ocr.models import ModelSpec
    from edge_ocr.paths import default_model_dir

    lines = [f"edge-ocr {__version__}", f"python {platform.python_version()} ({platform.machine()})"]
    lines += [f"{name} {_version(name)}" for name in ("numpy", "cv2", "ai_edge_litert", "onnxruntime")]
    lines.append(f"backends: {', '.join(available_backends())} (known: {', '.join(backend_names())})")
    spec = ModelSpec.load(args.model or default_model_dir(), "int8", "tflite")
    card = spec.card
    lines.append(
        f"model: {spec.directory} {spec.name} v{spec.version}, {spec.num_classes} classes, "
        f"input {list(spec.input_shape)}"
    )
    for key, entry in card.get("files", {}).items():
        lines.append(
            f"  {key}: {entry.get('path')} {entry.get('bytes', '?')} bytes sha256 "
            f"{str(entry.get('sha256', ''))[:12]}"
        )
    heldout = card.get("metrics", {}).get("heldout", {})
    for key, value in heldout.items() if isinstance(heldout, dict) else ():
        if isinstance(value, dict) and "accuracy" in value:
            lines.append(
                f"  held-out accuracy {key}: {100 * float(value['accuracy']):.2f} % (n={value.get('n', '?')})"
            )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _version(module: str) -> str:
    import importlib

    try:
        m = importlib.import_module(module)
    except ImportError:
        return "not installed"
    return str(getattr(m, "__version__", "?"))


def _daemon_commands() -> dict[str, Command]:
    """`run` and `check-config` live in daemon_cli.py; imported lazily so `read` stays light."""
    from edge_ocr.daemon import cli as d

    return {
        "run": Command("run the camera daemon (see systemd/)", d.build_run_parser, d.cmd_run),
        "check-config": Command("validate a daemon config file", d.build_check_parser, d.cmd_check_config),
    }


COMMANDS: dict[str, Command] = {
    "read": Command("read plates from images (JSON lines on stdout)", build_read_parser, cmd_read),
    "info": Command("versions, backends and model card summary", build_info_parser, cmd_info),
}


def all_commands() -> dict[str, Command]:
    cmds = dict(COMMANDS)
    with contextlib.suppress(ImportError):  # a trimmed install without the daemon
        cmds.update(_daemon_commands())
    with contextlib.suppress(ImportError):  # a trimmed install without the benchmark's plotting
        from edge_ocr.bench.cli import build_bench_parser, cmd_bench

        cmds["bench"] = Command(
            "accuracy and speed per model format and backend", build_bench_parser, cmd_bench
        )
    return cmds


def build_parser(commands: dict[str, Command]) -> argparse.ArgumentParser:
    from edge_ocr import __version__

    parser = argparse.ArgumentParser(prog="edge-ocr", description="Read licence plates on small devices.")
    parser.add_argument("--version", action="version", version=f"edge-ocr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, cmd in commands.items():
        cmd.build(sub.add_parser(name, help=cmd.help, description=cmd.run.__doc__))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    commands = all_commands()
    args = build_parser(commands).parse_args(argv)
    try:
        return commands[args.command].run(args)
    except (ModelError, ConfigError) as e:
        print(f"edge-ocr: {e}", file=sys.stderr)
        return 2
    except EdgeOcrError as e:
        print(f"edge-ocr: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
