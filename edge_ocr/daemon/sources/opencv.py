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
        self._cap: cv2.VideoCapture | None = None
        self._index = 0
        self._t0 = 0.0
        self._file_fps = 0.0

    def open(self) -> None:
        if self.is_file and not Path(self.uri).is_file():
            raise SourceError(f"{self.uri}: video file not found")
        target: int | str = int(self.uri) if self.uri.isdigit() else self.uri
        if _is_stream(self.uri):
            # A stalled RTSP/HTTP stream must fail the read (and get reopened), not block for ever.
            timeouts = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
            ]
            cap = cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, timeouts)
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
        self._t0 = self._clock()

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
        index = self._index
        self._index += 1
        if image.ndim not in (2, 3) or image.size == 0:
            raise BadFrame(f"{self.uri}: frame {index} has shape {image.shape}")
        ts = self._t0 + index / self._file_fps if self.is_file else self._clock()
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
