"""OpenCV source: V4L2 devices (index or /dev/videoN), RTSP/HTTP streams and video files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2

from edge_ocr.daemon.sources.base import BadFrame, CameraFrame, EndOfStream
from edge_ocr.errors import SourceError
from edge_ocr.types import Frame

STREAM_TIMEOUT_MS = 10000


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
        if self._cap is None:
            raise SourceError(f"{self.uri}: not open")
        if self.is_file and self._rate > 0:
            due = self._t0 + self._index / (self._file_fps * self._rate)
            wait = due - self._clock()
            if wait > 0:
                self._sleep(wait)
        ok, image = self._cap.read()
        if not ok or image is None:
            if self.is_file:
                raise EndOfStream(f"{self.uri}: end of video")
            raise SourceError(f"{self.uri}: no frame (camera gone?)")
        n = self._index
        self._index += 1
        index = self._first + n
        ts = self._ts0 + n / self._file_fps if self.is_file else self._clock()
        self._last = (index, ts)
        if image.ndim not in (2, 3) or image.size == 0:
            raise BadFrame(f"{self.uri}: frame {index} has shape {image.shape}")
        if self._lores is None:
            return Frame(image=image, index=index, timestamp=ts, source=self.name)
        # As picamera2's lores stream: the costly search runs on a quarter of the pixels, and
        # the plates found there are cut again from the full frame for reading.
        small = cv2.resize(image, self._lores, interpolation=cv2.INTER_AREA)
        return CameraFrame(image=image, index=index, timestamp=ts, source=self.name, lores=small)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
