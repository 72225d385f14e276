"""Raspberry Pi camera through picamera2 (libcamera), imported only when this source is used.

Two streams from one capture request: `main` (full resolution, BGR) for plate crops and `lores`
(YUV420) whose Y plane is a ready-made small grey image for the motion gate and detection, so the
CPU never has to downscale or convert the big frame just to look for change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from edge_ocr.daemon.sources.base import BadFrame, CameraFrame
from edge_ocr.errors import SourceError
from edge_ocr.types import Frame


def _default_factory() -> Any:
    try:
        from picamera2 import Picamera2
    except ImportError as e:
        raise SourceError(
            "picamera2 is not installed: on Raspberry Pi OS `apt install python3-picamera2` and use a "
            "venv made with --system-site-packages"
        ) from e
    return Picamera2()


class PicameraSource:
    live = True

    def __init__(
        self,
        camera: str = "cam0",
        width: int = 1280,
        height: int = 720,
        lores_width: int = 640,
        lores_height: int = 360,
        fps: float = 10.0,
        factory: Callable[[], Any] = _default_factory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = camera
        self._main = (width, height)
        self._lores = (lores_width, lores_height)
        self._fps = fps
        self._factory = factory
        self._clock = clock
        self._cam: Any = None
        self._index = 0

    def open(self) -> None:
        try:
            cam = self._factory()
            config = cam.create_video_configuration(
                main={"size": self._main, "format": "RGB888"},  # RGB888 is B,G,R in memory: OpenCV order
                lores={"size": self._lores, "format": "YUV420"},
                controls={"FrameRate": self._fps},
                buffer_count=4,
            )
            cam.configure(config)
            cam.start()
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - libcamera raises RuntimeError, OSError, ...
            raise SourceError(f"picamera2: cannot start camera: {e}") from e
        self._cam = cam

    def read(self) -> Frame:
        if self._cam is None:
            raise SourceError("picamera2: not open")
        try:
            request = self._cam.capture_request()
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"picamera2: capture failed: {e}") from e
        try:
            main = request.make_array("main")
            yuv = request.make_array("lores")
        finally:
            request.release()
        index = self._index
        self._index += 1
        lw, lh = self._lores
        # YUV420 (I420) arrives as a (h * 3/2, w) array: the first h rows are the Y (luma) plane.
        if main is None or main.ndim != 3 or yuv is None or yuv.shape[0] < lh:
            raise BadFrame(f"picamera2: frame {index} has unexpected shape")
        y_plane = yuv[:lh, :lw]
        return CameraFrame(
            image=main[:, :, :3], index=index, timestamp=self._clock(), source=self.name, lores=y_plane
        )

    def close(self) -> None:
        if self._cam is not None:
            cam, self._cam = self._cam, None
            try:
                cam.stop()
            finally:
                cam.close()
