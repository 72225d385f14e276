"""`edge-ocr run` and `edge-ocr check-config`: parser builders and commands for cli.py's table."""

from __future__ import annotations

import argparse
import logging
import sys

from edge_ocr.daemon.config import check_environment, load_config


def build_run_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, metavar="FILE", help="TOML config (see systemd/edge-ocr.toml)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))


def cmd_run(args: argparse.Namespace) -> int:
    """Run the camera daemon until SIGTERM (or the end of a video/folder source)."""
    from edge_ocr.daemon.memory import tune_malloc
    from edge_ocr.daemon.signals import StopSignals

    signals = StopSignals().install()  # before the slow imports and the model load
    tune_malloc()  # before any thread starts (docs/DAEMON.md, memory)
    from edge_ocr.daemon.runner import run_from_config

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",  # journald adds the time
    )
    return run_from_config(args.config, signals)


def build_check_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="TOML config to validate")


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config without opening the camera or loading a model; prints a short summary."""
    cfg = load_config(args.file)
    for warning in check_environment(cfg):
        sys.stderr.write(f"{args.file}: warning: {warning}\n")
    s, m = cfg.source, cfg.mqtt
    sys.stdout.write(
        f"{args.file}: ok\n"
        f"  source  {s.kind} {s.uri} as camera '{s.camera}' ({s.width}x{s.height} @ {s.fps:g} fps)\n"
        f"  reader  {cfg.reader.backend}/{cfg.reader.format} region={cfg.reader.region} "
        f"threads={cfg.reader.threads} model={cfg.reader.model_dir or '(shipped)'}\n"
        f"  tracker min_frames={cfg.tracker.min_frames} end_after_s={cfg.tracker.end_after_s:g} "
        f"cooldown_s={cfg.tracker.cooldown_s:g}; motion gate {'on' if cfg.motion.enabled else 'off'}\n"
        f"  log     {'off' if not cfg.log.enabled else cfg.log.path}\n"
        f"  mqtt    {'off' if not m.enabled else f'{m.host}:{m.port} tls={m.tls} prefix={m.topic_prefix}'}\n"
    )
    return 0
