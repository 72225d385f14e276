"""OpenCV source: V4L2 devices (index or /dev/videoN), RTSP/HTTP streams and video files."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.daemon.sources.base import BadFrame, CameraFrame, EndOfStream
from edge_ocr.errors import SourceError
from edge_ocr.types import Frame

STREAM_TIMEOUT_MS = 10000
POOL = 3  # frame buffers decoded into again: the loop's frame, the slot's (a live source) and one spare


class FramePool:
    """Frame buffers that the decoder writes into again once nobody holds them.

    A 1280x720 frame is 2.6 MiB (and its small copy 0.7 MiB); allocated anew 30 times a second, glibc
    takes them from the heap, which fragments (the daemon's peak RSS crept up over half an hour), or,
    with a fixed mmap threshold, maps and zeroes fresh pages for each (+3-6 ms of CPU per frame,
    docs/DAEMON.md). A buffer is reused only when no one else holds it — the loop, a crop cut from it,
    a view — which its reference count tells; otherwise a new one is allocated (and pooled while
    there is room)."""

    def __init__(self, size: int = POOL) -> None:
        self.size = size
        self._bufs: list[np.ndarray] = []

    def spare(self, shape: tuple[int, ...]) -> np.ndarray | None:
        """A pooled buffer of `shape` that nobody else holds (None: decode into a new one)."""
        for i in range(len(self._bufs)):
            # held by the list and by getrefcount's argument only: free
            if sys.getrefcount(self._bufs[i]) <= 2 and self._bufs[i].shape == shape:
                return self._bufs[i]
        return None

    def keep(self, buf: np.ndarray, spare: np.ndarray | None) -> None:
        """`buf` was filled (in `spare` when it is that one): pool it while there is room."""
        if buf is spare:
            return
        if spare is not None:  # the decoder made a new array (the stream changed size): replace
            self._bufs = [b for b in self._bufs if b is not spare]
        if len(self._bufs) < self.size:
            self._bufs.append(buf)


def _is_stream(uri: str) -> bool:
    return "://" in uri


def _is_device(uri: str) -> bool:
    return uri.isdigit() or uri.startswith("/dev/")


class OpenCvSource:
    """Wraps cv2.VideoCapture.

    Video files are timed by their own frame rate (timestamp = start + index / fps) so tracking
    behaves the same whether a file plays in real time or as fast as the pipeline can go;
    `playback_rate` > 0 throttles a file to that multiple of real time and makes it live
    (frames are dropped when the pipeline is slower, as with a camera). With `lores` each frame
    carries a small copy (source.lores), as picamera2's low-resolution stream does.
    """

    def __init__(
        self,
        uri: str,
        camera: str = "cam0",
        width: int = 0,
        height: int = 0,
        fps: float = 0.0,
        playback_rate: float = 0.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        lores: tuple[int, int] | None = None,
        decode_threads: int = 1,
    ) -> None:
        self.uri = uri
        self.name = camera
        self.is_file = not (_is_stream(uri) or _is_device(uri))
        self.live = not self.is_file or playback_rate > 0
        self._size = (width, height)
        self._fps = fps
        self._rate = playback_rate
        self._clock = clock
        self._sleep = sleep
        self._lores = lores  # (width, height) of a small copy for the motion gate and the detector
        self._decode_threads = decode_threads  # FFmpeg's decoder threads (0: OpenCV's default, one per core)
        self._cap: cv2.VideoCapture | None = None
        self._index = 0  # frames read since open()
        self._t0 = 0.0  # clock at open(): the schedule of a throttled file
        self._ts0 = 0.0  # timestamp of the file's first frame
        self._first = 0  # index of the file's first frame
        self._last: tuple[int, float] | None = None  # (index, timestamp) of the last frame handed out
        self._file_fps = 0.0
        self._frames = FramePool()
        self._smalls = FramePool()
        self._last_shape: tuple[int, ...] = ()  # the last frame's shape: a pooled buffer must match

    def open(self) -> None:
        if self.is_file and not Path(self.uri).is_file():
            raise SourceError(f"{self.uri}: video file not found")
        target: int | str = int(self.uri) if self.uri.isdigit() else self.uri
        params = []
        if self._decode_threads > 0:
            # Each FFmpeg decoder thread holds frames of its own (one thread per core by default).
            params = [cv2.CAP_PROP_N_THREADS, self._decode_threads]
        if _is_stream(self.uri):
            # A stalled RTSP/HTTP stream must fail the read (and get reopened), not block for ever.
            params += [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
            ]
            cap = cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, params)
        elif self.is_file and params:
            cap = cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, params)
            if not cap.isOpened():  # an OpenCV built without FFmpeg: its other backends, defaults
                cap = cv2.VideoCapture(target)
        else:
            cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.uri}: cannot open")
        if not self.is_file:
            if self._size[0] and self._size[1]:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
            if self._fps:
                cap.set(cv2.CAP_PROP_FPS, self._fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # latest frame, not a backlog in the driver
        self._file_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or self._fps or 10.0
        self._cap = cap
        self._index = 0
        self._t0 = self._ts0 = self._clock()
        self._first = 0
        if self.is_file and self._last is not None:
            # A file played again (source.exit_at_end = false, e.g. `bench daemon --duration`) goes
            # on as one stream: frame numbers and media time carry on from its last frame instead of
            # starting again (time going back would confuse the tracker's end_after_s and cooldown_s).
            self._first = self._last[0] + 1
            self._ts0 = max(self._ts0, self._last[1] + 1.0 / self._file_fps)

    def read(self) -> Frame:
        self.grab()
        return self.retrieve()

    def grab(self) -> None:
        """Take the next frame from the camera or file without converting it (`retrieve` does):
        a live source's capture thread grabs while the loop works, and converts a frame only into a
        buffer that is free (CaptureThread)."""
        if self._cap is None:
            raise SourceError(f"{self.uri}: not open")
        if self.is_file and self._rate > 0:
            due = self._t0 + self._index / (self._file_fps * self._rate)
            wait = due - self._clock()
            if wait > 0:
                self._sleep(wait)
        if not self._cap.grab():
            if self.is_file:
                raise EndOfStream(f"{self.uri}: end of video")
            raise SourceError(f"{self.uri}: no frame (camera gone?)")
        n = self._index
        self._index += 1
        self._last = (self._first + n, self._ts0 + n / self._file_fps if self.is_file else self._clock())

    def retrieve(self, into: Frame | None = None) -> Frame:
        """The frame last grabbed, converted into `into`'s buffers (a frame nobody else holds: the
        one it replaces) or into pooled ones."""
        if self._cap is None or self._last is None:
            raise SourceError(f"{self.uri}: not open")
        index, ts = self._last
        spare = into.image if into is not None else self._frames.spare(self._last_shape)
        ok, image = self._cap.retrieve() if spare is None else self._cap.retrieve(spare)
        if not ok or image is None or image.ndim not in (2, 3) or image.size == 0:
            raise BadFrame(f"{self.uri}: frame {index} does not decode")
        if into is None or image is not spare:
            self._frames.keep(image, spare)
        self._last_shape = image.shape
        if self._lores is None:
            return Frame(image=image, index=index, timestamp=ts, source=self.name)
        # As picamera2's lores stream: the costly search runs on a quarter of the pixels, and
        # the plates found there are cut again from the full frame for reading.
        shape = (self._lores[1], self._lores[0], *image.shape[2:])
        old = into.lores if isinstance(into, CameraFrame) else None
        dst = old if old is not None and old.shape == shape else self._smalls.spare(shape)
        small = cv2.resize(image, self._lores, dst=dst, interpolation=cv2.INTER_AREA)
        if small is not old:
            self._smalls.keep(small, dst)
        return CameraFrame(image=image, index=index, timestamp=ts, source=self.name, lores=small)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
