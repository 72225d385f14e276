"""Frame sources, picked by `source.kind` from a small registry.

Part of the daemon: may import the daemon's config and the shared basics (types, errors), never the reader.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from edge_ocr.daemon.config import SourceConfig
from edge_ocr.daemon.sources.base import BadFrame, CameraFrame, CaptureThread, EndOfStream, FrameSource
from edge_ocr.daemon.sources.files import FolderSource
from edge_ocr.daemon.sources.opencv import OpenCvSource
from edge_ocr.daemon.sources.picam import PicameraSource


def _opencv(cfg: SourceConfig, clock: Callable[[], float]) -> FrameSource:
    lores = (cfg.lores_width, cfg.lores_height) if cfg.lores else None
    return OpenCvSource(
        cfg.uri,
        cfg.camera,
        cfg.width,
        cfg.height,
        cfg.fps,
        cfg.playback_rate,
        clock=clock,
        lores=lores,
        decode_threads=cfg.decode_threads,
    )


def _picamera2(cfg: SourceConfig, clock: Callable[[], float]) -> FrameSource:
    return PicameraSource(
        cfg.camera, cfg.width, cfg.height, cfg.lores_width, cfg.lores_height, cfg.fps, clock=clock
    )


def _folder(cfg: SourceConfig, clock: Callable[[], float]) -> FrameSource:
    return FolderSource(cfg.uri, cfg.camera, cfg.fps, cfg.playback_rate, clock=clock)


SOURCES: dict[str, Callable[[SourceConfig, Callable[[], float]], FrameSource]] = {
    "opencv": _opencv,
    "picamera2": _picamera2,
    "folder": _folder,
}


def make_source(cfg: SourceConfig, clock: Callable[[], float] = time.time) -> FrameSource:
    return SOURCES[cfg.kind](cfg, clock)


__all__ = [
    "SOURCES",
    "BadFrame",
    "CameraFrame",
    "CaptureThread",
    "EndOfStream",
    "FrameSource",
    "make_source",
]
