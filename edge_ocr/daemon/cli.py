"""`edge-ocr run` and `edge-ocr check-config`: parser builders and commands for cli.py's table."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from edge_ocr.daemon.config import Config, load_config
from edge_ocr.errors import ConfigError


def build_run_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, metavar="FILE", help="TOML config (see systemd/edge-ocr.toml)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))


def cmd_run(args: argparse.Namespace) -> int:
    """Run the camera daemon until SIGTERM (or the end of a video/folder source)."""
    from edge_ocr.daemon.runner import run_from_config

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",  # journald adds the time
    )
    return run_from_config(args.config)


def build_check_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="TOML config to validate")


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config without opening the camera or loading a model; prints a short summary."""
    cfg = load_config(args.file)
    _check_files(cfg)
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


def _check_files(cfg: Config) -> None:
    """Files named by the config that must exist at start-up (cameras may legitimately be absent)."""
    named = {
        "reader.model_dir": cfg.reader.model_dir,
        "known.file": cfg.known.file,
        "mqtt.ca_file": cfg.mqtt.ca_file,
        "mqtt.cert_file": cfg.mqtt.cert_file,
        "mqtt.key_file": cfg.mqtt.key_file,
    }
    for key, value in named.items():
        if value and not Path(value).exists():
            raise ConfigError(f"key '{key}': {value} does not exist")
