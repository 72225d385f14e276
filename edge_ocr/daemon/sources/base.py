"""FrameSource: the one interface to cameras, streams, video files and image folders.

The daemon must run for months next to a camera that may be unplugged, rebooted or streaming
garbage, so the capture side is isolated in `CaptureThread`: it keeps only the latest frame
(a slow pipeline reads fresh frames, not a growing backlog), counts what it drops, skips frames that
do not decode, and reopens a failed source with exponential back-off instead of giving up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from edge_ocr.errors import SourceError
from edge_ocr.types import Frame


class EndOfStream(SourceError):
    """A finite source (video file, image folder) has no more frames."""


class BadFrame(SourceError):
    """One frame could not be decoded; the source itself is still usable."""


@dataclass(frozen=True)
class CameraFrame(Frame):
    """A frame with an optional low-resolution grey image (picamera2's lores Y plane).

    `lores` is cheap to analyse (motion gate, detection); `image` keeps full resolution for crops.
    """

    lores: np.ndarray | None = None


class FrameSource(Protocol):
    name: str
    # True for cameras and streams (frames keep coming whether we read them or not);
    # False for files read as fast as the pipeline allows (the capture thread then never drops).
    live: bool

    def open(self) -> None: ...

    def read(self) -> Frame:
        """Next frame; raises BadFrame, EndOfStream or SourceError."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class GrabbingSource(Protocol):
    """A source that can take a frame (`grab`) apart from converting it (`retrieve`, into the
    buffers of a frame given back): OpenCvSource."""

    def grab(self) -> None: ...

    def retrieve(self, into: Frame | None = None) -> Frame: ...


@dataclass
class CaptureStats:
    captured: int = 0
    dropped: int = 0
    bad_frames: int = 0
    errors: int = 0
    reopens: int = 0
    last_error: str = ""


class CaptureThread:
    """Reads a source on its own thread; `get()` hands the newest frame to the processing loop."""

    def __init__(
        self,
        source: FrameSource,
        retry_min_s: float = 0.5,
        retry_max_s: float = 30.0,
        exit_at_end: bool = True,
        sleep: Callable[[float], None] | None = None,
        mono: Callable[[], float] = time.monotonic,
        lockstep: bool = False,
    ) -> None:
        self.source = source
        self._mono = mono
        # A source that is not live waits for done() after each frame (the daemon's loop calls it).
        self.lockstep = lockstep
        self._held = False  # the loop holds the frame it took (lockstep only)
        # When the current open()/read() call began (None between calls): a driver call that never
        # returns cannot be interrupted from Python, only reported so the service gets restarted.
        self.in_call_since: float | None = None
        self.stats = CaptureStats()
        self._retry = (retry_min_s, retry_max_s)
        self._exit_at_end = exit_at_end
        self._stop = threading.Event()
        self._sleep = sleep or (lambda s: self._stop.wait(s) and None)
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self.ended = False
        self._thread = threading.Thread(target=self._run, name=f"capture-{source.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def get(self, timeout: float) -> Frame | None:
        """The latest frame not yet handed out, or None after `timeout` seconds."""
        with self._cond:
            if self._slot is None and not self.ended:
                self._cond.wait(timeout)
            frame, self._slot = self._slot, None
            self._held = self.lockstep and frame is not None and not self.source.live
            self._cond.notify_all()
            return frame

    def done(self) -> None:
        """The loop has dropped the frame it took: with `lockstep`, a source read without dropping
        (a file) decodes its next frame into the same buffer now."""
        with self._cond:
            self._held = False
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        """The source ended and its last frame was taken."""
        with self._cond:
            return self.ended and self._slot is None

    def _put(self, frame: Frame) -> None:
        with self._cond:
            if not self.source.live:
                while self._slot is not None and not self._stop.is_set():
                    self._cond.wait(0.2)
            if self._slot is not None:
                self.stats.dropped += 1
            self._slot = frame
            self.stats.captured += 1
            self._cond.notify_all()

    def _wait_for_room(self) -> None:
        """A source read without dropping decodes its next frame only once the loop took the last:
        two frames alive (the loop's and the next), not three; with `lockstep`, only once the loop
        is done with it: one frame alive, decoding and reading take turns (docs/DAEMON.md, memory)."""
        with self._cond:
            while (self._slot is not None or self._held) and not self._stop.is_set():
                self._cond.wait(0.2)

    def _run(self) -> None:
        delay = self._retry[0]
        opened = False
        while not self._stop.is_set():
            try:
                self.in_call_since = self._mono()
                if not opened:
                    self.source.open()
                    opened = True
                if not self.source.live:
                    self.in_call_since = None  # waiting for the loop is not a camera call
                    self._wait_for_room()
                    if self._stop.is_set():
                        break  # stopping: no frame read only to be thrown away
                    self.in_call_since = self._mono()
                if self.source.live and isinstance(self.source, GrabbingSource):
                    self._grab_and_convert(self.source)
                else:
                    frame = self.source.read()
                    self.in_call_since = None
                    self._put(frame)
                    del frame  # held here, its buffer could not be decoded into again (FramePool)
                delay = self._retry[0]
            except BadFrame as e:
                self.in_call_since = None
                self.stats.bad_frames += 1
                self.stats.last_error = str(e)
            except EndOfStream:
                self.in_call_since = None
                self._close_quietly()
                opened = False
                if self._exit_at_end:
                    break
                self.stats.reopens += 1
            except Exception as e:  # noqa: BLE001 - any camera failure is retried, never fatal
                self.in_call_since = None
                self.stats.errors += 1
                self.stats.last_error = str(e)
                self._close_quietly()
                opened = False
                self._sleep(delay)
                delay = min(self._retry[1], max(delay * 2, 0.01))
                self.stats.reopens += 1
        if opened:
            self._close_quietly()
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    def _grab_and_convert(self, source: GrabbingSource) -> None:
        """A live source: grab the next frame holding no buffer (the wait for the camera), then
        convert it into the buffers of the frame the loop did not take (latest wins; under the lock,
        so the loop cannot take that one meanwhile) or, when the loop took it, into a free one. Two
        frames alive, the loop's and the slot's, instead of a third being decoded beside them."""
        source.grab()
        self.in_call_since = None
        with self._cond:
            stale, self._slot = self._slot, None
            if stale is not None:
                self.stats.dropped += 1
                self._slot = source.retrieve(stale)
                self.stats.captured += 1
                self._cond.notify_all()
                return
        self._put(source.retrieve())

    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken camera may fail too
            self.source.close()
