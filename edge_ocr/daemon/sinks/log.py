"""JSON-lines event log, to a file or stdout: one `edge_ocr.event/1` object per line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

from edge_ocr.daemon.sinks.base import Stats, event_to_json
from edge_ocr.daemon.sinks.private import create_private
from edge_ocr.errors import SinkError
from edge_ocr.types import PlateEvent


class JsonLinesSink:
    def __init__(
        self, path: str = "-", kinds: tuple[str, ...] = ("new", "update", "end"), stats: bool = False
    ):
        self.path = path
        self.kinds = kinds
        self.with_stats = stats
        self._fh: IO[str] | None = None
        self.reopen()

    def reopen(self) -> None:
        """Close and reopen the file so logrotate's rename takes effect (SIGHUP)."""
        if self.path == "-":
            self._fh = sys.stdout
            return
        if self._fh is not None:
            self._fh.close()
        try:
            create_private(Path(self.path))  # plate reads are personal data: 0600, folders 0700
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the sink
        except OSError as e:
            raise SinkError(f"{self.path}: cannot open log: {e.strerror or e}") from e

    def _write(self, obj: dict[str, object]) -> None:
        if self._fh is None:
            return
        try:
            self._fh.write(json.dumps(obj, separators=(",", ":")) + "\n")
            self._fh.flush()
        except OSError as e:
            raise SinkError(f"{self.path}: cannot write log: {e.strerror or e}") from e

    def emit(self, event: PlateEvent) -> None:
        if event.kind in self.kinds:
            self._write(event_to_json(event))

    def publish_stats(self, stats: Stats) -> None:
        if self.with_stats:
            self._write(stats.to_json())

    def queue_depth(self) -> int:
        return 0

    def dropped(self) -> int:
        return 0

    def failures(self) -> int:
        return 0  # a failed write raises; the runner counts it as a sink error

    def close(self, timeout: float = 0.0) -> None:
        if self._fh is not None and self.path != "-":
            self._fh.close()
        self._fh = None
