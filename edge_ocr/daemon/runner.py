"""Runner: the camera daemon's loop (source -> reader -> tracker -> sinks) under systemd.

What keeps it alive for months: the capture thread retries a vanished camera forever; a frame
that breaks the reader is skipped and counted; a sink error is logged, not fatal; the systemd
watchdog is fed only from this loop, so if the reader hangs the pings stop and systemd restarts
the service; SIGTERM ends the loop, flushes the tracker (`end` events) and drains the MQTT spool.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from edge_ocr.daemon.config import SHUTDOWN_MARGIN_S, Config, check_environment, load_config, state_path
from edge_ocr.daemon.follow import Follower, FrameWork
from edge_ocr.daemon.known import known_from_config
from edge_ocr.daemon.memory import collect, trim
from edge_ocr.daemon.motion import MotionGate
from edge_ocr.daemon.notify import Notifier
from edge_ocr.daemon.signals import StopSignals
from edge_ocr.daemon.sinks.base import Sink
from edge_ocr.daemon.sinks.crops import CropSaver, crop_box
from edge_ocr.daemon.sources import CameraFrame, CaptureThread, FrameSource, make_source
from edge_ocr.daemon.stats import FrameTrace, StatsKeeper
from edge_ocr.daemon.track import PlateTracker
from edge_ocr.types import Frame, PlateEvent, PlateRead

log = logging.getLogger("edge_ocr.daemon.runner")


class FrameReader(Protocol):
    @property
    def last_timings(self) -> dict[str, float]: ...

    def read_frame(self, image: np.ndarray, detect_image: np.ndarray | None = None) -> list[PlateRead]: ...


class Runner:
    def __init__(
        self,
        cfg: Config,
        reader: FrameReader,
        source: FrameSource,
        sinks: Sequence[Sink],
        notifier: Notifier | None = None,
        crops: CropSaver | None = None,
        clock: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        signals: StopSignals | None = None,
        cpu: Callable[[], float] = time.thread_time,
    ) -> None:
        self.cfg = cfg
        self.reader = reader
        self.sinks = list(sinks)
        self.notifier = notifier or Notifier()
        self.crops = crops
        self.clock = clock
        self.mono = mono
        src = cfg.source
        self.capture = CaptureThread(
            source, src.retry_min_s, src.retry_max_s, src.exit_at_end, mono=mono, lockstep=True
        )
        self.tracker = PlateTracker(cfg.tracker, src.camera, known_from_config(cfg))
        self.gate = MotionGate(cfg.motion, analyse=cfg.tracker.require_motion)
        self.stats = StatsKeeper(src.camera, mono)
        self.cpu = cpu  # the loop thread's CPU clock: frame cost without the load of other processes
        self.follower = Follower(reader, self.tracker, cfg.tracker, self._votable)
        self.trace = FrameTrace(state_path(cfg.daemon.trace)) if cfg.daemon.trace else None
        self.signals = signals or StopSignals()
        self._stop = self.signals.stop
        self._reopen = self.signals.reopen
        self._frozen = False  # the first periodic collection freezes what start-up made (memory.collect)

    def request_stop(self) -> None:
        self._stop.set()

    def install_signals(self) -> None:
        self.signals.install()

    def run(self) -> int:
        """Loop until SIGTERM or the end of a finite input; returns the exit code (0 = clean)."""
        self.capture.start()
        self.notifier.ready(f"reading {self.cfg.source.kind}:{self.cfg.source.uri}")
        log.info("running: camera %s, source %s", self.cfg.source.camera, self.cfg.source.uri)
        idle = self.cfg.daemon.idle_timeout_s
        while not self._stop.is_set():
            frame = self.capture.get(timeout=idle)
            if frame is not None:
                self._process(frame)
                frame = None  # dropped before the next frame is taken: one frame fewer alive
                self.capture.done()  # a file decodes its next frame into this one's buffer
            elif self.capture.finished:
                break
            elif self.capture.source.live:
                self._dispatch(self.tracker.update([], self.clock()), None)
            if self._reopen.is_set():
                self._reopen.clear()
                self._reopen_sinks()
            if not self._capture_stalled():
                self.notifier.watchdog()  # only here: proof that the loop is making progress
            self._periodic()
        return self._shutdown()

    def _capture_stalled(self) -> bool:
        limit = self.cfg.daemon.capture_stall_s
        since = self.capture.in_call_since
        if limit <= 0 or since is None or self.mono() - since < limit:
            return False
        self.notifier.status(f"camera call blocked for {self.mono() - since:.0f} s: waiting for the watchdog")
        return True

    def _process(self, frame: Frame) -> None:
        image = frame.image
        if (
            not isinstance(image, np.ndarray)
            or image.dtype != np.uint8
            or image.ndim not in (2, 3)
            or not image.size
        ):
            self.stats.bad_frame("frame is not a uint8 image")
            return
        lores = frame.lores if isinstance(frame, CameraFrame) and frame.lores is not None else image
        if not self.gate.changed(lores):
            self._trace(frame, "motion")
            self._dispatch(self.tracker.unchanged(frame.timestamp), None)
            return
        width = image.shape[1]
        moved = (lambda b: self.gate.moved(b, width)) if self.cfg.tracker.require_motion else None
        t0, c0 = self.mono(), self.cpu()
        try:
            # picamera2: detect on the lores Y plane, read the characters from the main stream.
            reads, work = self.follower.reads(
                image, None if lores is image else lores, frame.timestamp, moved
            )
        except Exception as e:  # noqa: BLE001 - one bad frame must not stop the service
            self._trace(frame, "bad")
            self.stats.bad_frame(f"frame {frame.index}: {type(e).__name__}: {e}")
            log.warning("frame %d skipped: %s: %s", frame.index, type(e).__name__, e)
            return
        wall, cpu = self.mono() - t0, self.cpu() - c0
        self.stats.processed(wall, getattr(self.reader, "last_timings", {}), cpu, work)
        self._trace(frame, "processed", wall, cpu, work)
        self.stats.last_ts = frame.timestamp
        keep = [r for r in reads if self._votable(r)]
        self._dispatch(self.tracker.update(keep, frame.timestamp, moved), image)

    def _votable(self, r: PlateRead) -> bool:
        rc = self.cfg.reader
        pattern = r.matches_pattern or not rc.require_pattern
        return r.confidence >= rc.min_confidence and len(r.plate) >= rc.min_length and pattern

    def _trace(
        self, frame: Frame, status: str, wall: float = 0.0, cpu: float = 0.0, work: FrameWork | None = None
    ) -> None:
        if self.trace is not None:
            self.trace.frame(frame.index, frame.timestamp, status, wall, cpu, work)

    def _dispatch(self, events: list[PlateEvent], image: np.ndarray | None) -> None:
        for event in events:
            self.stats.events += 1
            if self.crops is not None and image is not None and event.kind != "end":
                b = event.box
                try:
                    self.crops.save(event, crop_box(image, b.x, b.y, b.w, b.h))
                except Exception as e:  # noqa: BLE001
                    log.error("crop not saved: %s", e)
            for sink in self.sinks:
                try:
                    sink.emit(event)
                except Exception as e:  # noqa: BLE001 - a sink failure must not stop the others
                    self.stats.sink_errors += 1
                    log.error("sink %s: %s", type(sink).__name__, e)

    def _reopen_sinks(self) -> None:
        for sink in self.sinks:
            try:
                sink.reopen()
            except Exception as e:  # noqa: BLE001
                log.error("sink %s: reopen failed: %s", type(sink).__name__, e)

    def _periodic(self) -> None:
        d = self.cfg.daemon
        if self.stats.due("trim", d.trim_interval_s):
            trim()  # give back what the frames of the last second freed (memory.py)
        if d.gc_interval_s > 0 and self.stats.due("gc", d.gc_interval_s):
            self.stats.collected(collect(freeze=not self._frozen))
            self._frozen = True
        if self.stats.due("status", d.status_interval_s):
            self.notifier.status(
                self.stats.status_line(self.capture.stats, self._queue_depth(), self.gate.skipped)
            )
        if self.stats.due("stats", d.stats_interval_s):
            self._publish_stats()

    def _queue_depth(self) -> int:
        return sum(s.queue_depth() for s in self.sinks)

    def _publish_stats(self) -> None:
        snap = self.stats.snapshot(
            self.capture.stats,
            self.gate.skipped,
            self.tracker.active,
            self._queue_depth(),
            sum(s.dropped() for s in self.sinks),
            sum(s.failures() for s in self.sinks),
        )
        for sink in self.sinks:
            try:
                sink.publish_stats(snap)
            except Exception as e:  # noqa: BLE001
                log.error("sink %s: stats: %s", type(sink).__name__, e)

    def _shutdown(self) -> int:
        """Within daemon.stop_timeout_s (the unit's TimeoutStopSec): the drain gets what is left of it
        after the rest, never more than mqtt.drain_timeout_s, so systemd never kills a draining daemon."""
        t0 = self.mono()
        self.notifier.stopping()
        self.capture.stop()
        self._dispatch(
            self.tracker.flush(self.clock() if self.capture.source.live else self.stats.last_ts), None
        )
        self._publish_stats()
        left = self.cfg.daemon.stop_timeout_s - SHUTDOWN_MARGIN_S - (self.mono() - t0)
        drain = max(0.0, min(self.cfg.mqtt.drain_timeout_s, left))
        for sink in self.sinks:
            try:
                sink.close(drain)
            except Exception as e:  # noqa: BLE001
                log.error("sink %s: close: %s", type(sink).__name__, e)
        self.notifier.close()
        if self.trace is not None:
            self.trace.close()
        log.info(
            "stopped: %s", self.stats.status_line(self.capture.stats, self._queue_depth(), self.gate.skipped)
        )
        return 0


def make_reader(cfg: Config) -> FrameReader:
    """The real plate reader; imported here so that `check-config` needs no model runtime. OpenCV's
    own pool gets `reader.threads` too: one thread means the whole frame's work is in the loop."""
    import cv2

    from edge_ocr.reader.detect import resolve
    from edge_ocr.reader.pipeline import Reader

    r = cfg.reader
    cv2.setNumThreads(r.threads)
    reader: Any = Reader(
        model_dir=r.model_dir or None,
        backend=r.backend,
        fmt=r.format,
        region=r.region,
        threads=r.threads,
        detector=resolve(r.detector),
    )
    log.info("plate detector: %s", reader.detector_name)
    return reader


def make_sinks(cfg: Config) -> list[Sink]:
    from edge_ocr.daemon.sinks.log import JsonLinesSink

    sinks: list[Sink] = []
    if cfg.log.enabled:
        sinks.append(JsonLinesSink(cfg.log.path, cfg.log.kinds, cfg.log.stats))
    if cfg.mqtt.enabled:
        from edge_ocr.daemon.sinks.mqtt import MqttSink
        from edge_ocr.daemon.sinks.spool import Spool

        spool = Spool(state_path(cfg.spool.path), cfg.spool.max_events)
        sinks.append(MqttSink(cfg.mqtt, cfg.source.camera, spool, max_held=cfg.spool.memory_events))
    return sinks


def build_runner(cfg: Config, signals: StopSignals | None = None) -> Runner:
    crops = None
    if cfg.crops.enabled:
        crops = CropSaver(state_path(cfg.crops.dir), int(cfg.crops.quota_mb * 1024 * 1024), cfg.crops.kinds)
    reader = make_reader(cfg)
    return Runner(cfg, reader, make_source(cfg.source), make_sinks(cfg), Notifier(), crops, signals=signals)


def run_from_config(path: str, signals: StopSignals | None = None) -> int:
    """`edge-ocr run --config FILE`: errors from our hierarchy propagate to the CLI's exit codes.
    Pass signals already installed (cli.py does, before importing this module)."""
    signals = signals or StopSignals().install()
    cfg = load_config(path)
    for warning in check_environment(cfg):
        log.warning("%s: %s", path, warning)
    return build_runner(cfg, signals).run()
