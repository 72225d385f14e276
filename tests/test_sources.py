from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge_ocr.daemon.config import SourceConfig
from edge_ocr.daemon.sources import SOURCES, BadFrame, CameraFrame, CaptureThread, EndOfStream, make_source
from edge_ocr.daemon.sources.files import FolderSource
from edge_ocr.daemon.sources.opencv import OpenCvSource
from edge_ocr.daemon.sources.picam import PicameraSource
from edge_ocr.errors import SourceError
from edge_ocr.types import Frame


class ScriptedSource:
    """Plays a script of 'frame', 'bad', 'error', 'end' steps; open() fails while `fail_opens` > 0."""

    def __init__(self, script: list[str], live: bool = True, fail_opens: int = 0) -> None:
        self.name = "fake"
        self.live = live
        self.script = list(script)
        self.fail_opens = fail_opens
        self.opens = 0
        self.closes = 0
        self.i = 0

    def open(self) -> None:
        self.opens += 1
        if self.fail_opens > 0:
            self.fail_opens -= 1
            raise SourceError("camera not there")

    def read(self) -> Frame:
        if not self.script:
            raise EndOfStream("done")
        step = self.script.pop(0)
        self.i += 1
        if step == "bad":
            raise BadFrame("garbled")
        if step == "error":
            raise SourceError("unplugged")
        if step == "crash":
            raise RuntimeError("driver bug")
        return Frame(np.full((4, 4), self.i, np.uint8), index=self.i)

    def close(self) -> None:
        self.closes += 1


def drain(cap: CaptureThread, timeout: float = 5.0) -> list[Frame]:
    frames = []
    deadline = time.monotonic() + timeout
    while not cap.finished and time.monotonic() < deadline:
        f = cap.get(0.05)
        if f is not None:
            frames.append(f)
    return frames


def test_retry_with_backoff_then_recover() -> None:
    delays: list[float] = []
    src = ScriptedSource(["frame", "error", "crash", "frame"], live=False, fail_opens=3)
    cap = CaptureThread(src, retry_min_s=0.5, retry_max_s=3.0, sleep=delays.append)
    cap.start()
    frames = drain(cap)
    assert [f.index for f in frames] == [1, 4]
    assert delays == [0.5, 1.0, 2.0, 0.5, 1.0]  # 3 failed opens, then 2 read errors; reset after success
    assert cap.stats.errors == 5 and src.opens == 6
    assert cap.ended


def test_bad_frames_skipped_and_counted() -> None:
    src = ScriptedSource(["frame", "bad", "bad", "frame"], live=False)
    cap = CaptureThread(src, sleep=lambda s: None)
    cap.start()
    assert len(drain(cap)) == 2
    assert cap.stats.bad_frames == 2 and cap.stats.errors == 0


def test_latest_frame_wins_for_live_sources() -> None:
    src = ScriptedSource(["frame"] * 50, live=True)
    cap = CaptureThread(src, sleep=lambda s: None)
    cap.start()
    while not cap.ended:
        time.sleep(0.01)
    last = cap.get(0.1)
    assert last is not None and last.index == 50
    assert cap.stats.captured == 50 and cap.stats.dropped == 49


def test_files_never_drop() -> None:
    src = ScriptedSource(["frame"] * 20, live=False)
    cap = CaptureThread(src, sleep=lambda s: None)
    cap.start()
    assert [f.index for f in drain(cap)] == list(range(1, 21))
    assert cap.stats.dropped == 0


def test_files_decoded_only_once_the_loop_took_the_last_frame() -> None:
    """Read without dropping, the next frame is decoded only while the slot is empty: two frames
    alive (the loop's and the next one), not three (docs/DAEMON.md, memory)."""
    src = ScriptedSource(["frame"] * 20, live=False)
    cap = CaptureThread(src, sleep=lambda s: None)
    slot_at_read: list[bool] = []
    read = src.read

    def watched_read() -> Frame:
        slot_at_read.append(cap._slot is None)
        return read()

    src.read = watched_read  # type: ignore[method-assign]
    cap.start()
    assert [f.index for f in drain(cap)] == list(range(1, 21))
    assert len(slot_at_read) == 21 and all(slot_at_read)  # 20 frames and the end


def test_lockstep_file_decodes_the_next_frame_only_after_done() -> None:
    """With lockstep (the daemon), a file's next frame is decoded only once the loop said it is done
    with the last one: one frame alive. A live source never waits for it."""
    src = ScriptedSource(["frame"] * 5, live=False)
    cap = CaptureThread(src, sleep=lambda s: None, lockstep=True)
    cap.start()
    seen = []
    for _ in range(5):
        f = cap.get(2.0)
        assert f is not None
        seen.append(f.index)
        time.sleep(0.05)  # the capture thread would have decoded the next one by now
        assert src.i == f.index  # ... but it waits
        cap.done()
    assert seen == [1, 2, 3, 4, 5]
    assert cap.get(2.0) is None and cap.finished
    live = ScriptedSource(["frame"] * 5, live=True)
    cap = CaptureThread(live, sleep=lambda s: None, lockstep=True)
    cap.start()
    assert cap.get(2.0) is not None
    deadline = time.monotonic() + 2.0
    while live.i < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.i == 5  # read on without done()


def test_lockstep_stop_while_held() -> None:
    src = ScriptedSource(["frame"] * 5, live=False)
    cap = CaptureThread(src, sleep=lambda s: None, lockstep=True)
    cap.start()
    assert cap.get(2.0) is not None
    t0 = time.monotonic()
    cap.stop()  # the capture thread waits for done(); stop must still end it
    assert time.monotonic() - t0 < 2 and cap.ended and src.i == 1


def test_stop_interrupts_backoff() -> None:
    src = ScriptedSource([], fail_opens=10**6)
    cap = CaptureThread(src, retry_min_s=60, retry_max_s=60)
    cap.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    cap.stop()
    assert time.monotonic() - t0 < 2 and cap.ended


def write_video(path: Path, n: int, size: tuple[int, int] = (160, 120), fps: float = 10.0) -> None:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(n):
        w.write(np.full((size[1], size[0], 3), i * 10 % 255, np.uint8))
    w.release()


def test_opencv_video_file(tmp_path: Path) -> None:
    video = tmp_path / "v.avi"
    write_video(video, 5)
    src = OpenCvSource(str(video), "cam", clock=lambda: 1000.0)
    assert src.is_file and not src.live
    src.open()
    frames = [src.read() for _ in range(5)]
    with pytest.raises(EndOfStream):
        src.read()
    src.close()
    assert [f.index for f in frames] == list(range(5))
    assert frames[0].image.shape == (120, 160, 3)
    assert frames[3].timestamp == pytest.approx(1000.3)  # media time, independent of processing speed
    # every frame held is its own: a pooled buffer is decoded into only when nobody holds it
    assert [round(float(f.image.mean()) / 10) for f in frames] == [0, 1, 2, 3, 4]


def test_opencv_decodes_into_buffers_nobody_holds(tmp_path: Path) -> None:
    video = tmp_path / "v.avi"
    write_video(video, 14)
    src = OpenCvSource(str(video), lores=(80, 60))
    src.open()
    first = src.read()
    assert isinstance(first, CameraFrame) and first.lores is not None
    held = (first.image.ctypes.data, first.lores.ctypes.data)
    seen = set()
    for i in range(1, 10):  # the loop takes a frame, drops it, takes the next
        f = src.read()
        assert isinstance(f, CameraFrame) and f.lores is not None
        assert round(float(f.image.mean()) / 10) == i and f.lores.shape == (60, 80, 3)
        seen.add((f.image.ctypes.data, f.lores.ctypes.data))
        pooled = [b for b in src._frames._bufs if b is f.image] + [
            b for b in src._smalls._bufs if b is f.lores
        ]
        assert len(pooled) == 2 or i == 1  # from the third frame on, decoded into pooled buffers
        del f, pooled
    assert held not in seen  # the frame still held was never written into
    assert len(src._frames._bufs) == 2  # the frame held and one that the others take turns in
    assert round(float(first.image.mean())) == 0
    view = src.read().image[10:20, 10:20]  # a crop cut from a frame keeps that frame's buffer too
    assert all(src.read().image.ctypes.data != view.base.ctypes.data for _ in range(2))  # type: ignore[union-attr]
    src.close()


def test_opencv_decoder_threads(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"  # MPEG-4 decodes with threads (MJPEG always with one)
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (160, 120))
    for i in range(3):
        w.write(np.full((120, 160, 3), i * 10, np.uint8))
    w.release()
    for threads in (1, 2, 0):
        src = OpenCvSource(str(video), decode_threads=threads)
        src.open()
        assert src._cap is not None
        n = src._cap.get(cv2.CAP_PROP_N_THREADS)
        assert n == threads if threads else n >= 1  # 0: OpenCV's default, one per core
        assert [src.read().index for _ in range(3)] == [0, 1, 2]
        src.close()
    cfg = SourceConfig(kind="opencv", uri=str(video))
    assert cfg.decode_threads == 1 and make_source(cfg)._decode_threads == 1  # type: ignore[attr-defined]


def test_opencv_file_played_again_goes_on_as_one_stream(tmp_path: Path) -> None:
    """source.exit_at_end = false reopens a video file at its end; frame numbers and media time
    carry on (time going back would confuse the tracker), and nothing is dropped."""
    video = tmp_path / "v.avi"
    write_video(video, 4)
    now = [1000.0]
    src = OpenCvSource(str(video), clock=lambda: now[0])
    cap = CaptureThread(src, exit_at_end=False, sleep=lambda s: None)
    cap.start()
    frames: list[Frame] = []
    while len(frames) < 10:
        f = cap.get(5.0)
        assert f is not None
        frames.append(f)
    cap.stop()
    assert [f.index for f in frames] == list(range(10))
    assert [f.timestamp for f in frames] == pytest.approx([1000.0 + i / 10 for i in range(10)])
    assert cap.stats.dropped == 0 and cap.stats.reopens >= 2
    now[0] = 5000.0  # a file reopened after a pause starts at the clock, still after its last frame
    src.close()
    src.open()
    assert src.read().timestamp == pytest.approx(5000.0) and src._index == 1


def test_opencv_throttle_makes_file_live(tmp_path: Path) -> None:
    video = tmp_path / "v.avi"
    write_video(video, 3)
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(round(s, 3))
        now[0] += s

    src = OpenCvSource(str(video), playback_rate=2.0, clock=lambda: now[0], sleep=sleep)
    assert src.live
    src.open()
    for _ in range(3):
        src.read()
    assert waits == [0.05, 0.05]  # 10 fps at 2x speed


def test_opencv_missing_file_and_device(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        OpenCvSource(str(tmp_path / "none.mp4")).open()
    assert OpenCvSource("/dev/video99").live and OpenCvSource("rtsp://cam/stream").live
    with pytest.raises(SourceError):
        OpenCvSource("/dev/video99").open()


def test_folder_source_skips_corrupt(tmp_path: Path) -> None:
    img = np.zeros((20, 30, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tmp_path / "c.txt").write_text("ignored")
    cv2.imwrite(str(tmp_path / "d.png"), img)
    src = FolderSource(str(tmp_path), fps=5.0, clock=lambda: 10.0)
    src.open()
    assert src.read().timestamp == 10.0
    with pytest.raises(BadFrame, match="b.jpg"):
        src.read()
    assert src.read().timestamp == pytest.approx(10.4)
    with pytest.raises(EndOfStream):
        src.read()


class FakeRequest:
    def __init__(self, main: np.ndarray, yuv: np.ndarray) -> None:
        self.arrays = {"main": main, "lores": yuv}
        self.released = False

    def make_array(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def release(self) -> None:
        self.released = True


class FakePicamera2:
    """Stands in for picamera2.Picamera2 only (the hardware boundary)."""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}
        self.started = False
        self.requests: list[FakeRequest] = []

    def create_video_configuration(self, **kw: Any) -> dict[str, Any]:
        return kw

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config

    def start(self) -> None:
        self.started = True

    def capture_request(self) -> FakeRequest:
        (lw, lh), (mw, mh) = self.config["lores"]["size"], self.config["main"]["size"]
        yuv = np.zeros((lh * 3 // 2, lw), np.uint8)
        yuv[:lh] = 77  # Y plane
        yuv[lh:] = 128  # U, V
        self.requests.append(FakeRequest(np.full((mh, mw, 3), 5, np.uint8), yuv))
        return self.requests[-1]

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        pass


def test_picamera2_streams_at_the_boundary() -> None:
    cam = FakePicamera2()
    src = PicameraSource("pi", 320, 240, 160, 120, fps=5, factory=lambda: cam, clock=lambda: 3.0)
    src.open()
    assert cam.started and cam.config["lores"]["format"] == "YUV420"
    assert cam.config["main"] == {"size": (320, 240), "format": "RGB888"}
    frame = src.read()
    assert isinstance(frame, CameraFrame) and frame.lores is not None
    assert frame.image.shape == (240, 320, 3)
    assert frame.lores.shape == (120, 160) and int(frame.lores.max()) == 77  # only the Y plane
    assert cam.requests[0].released
    src.close()
    assert not cam.started


def test_picamera2_missing_library_is_a_source_error() -> None:
    import importlib.util

    if importlib.util.find_spec("picamera2") is not None:
        pytest.skip("picamera2 is installed here")
    with pytest.raises(SourceError, match="python3-picamera2"):
        PicameraSource().open()


def test_registry() -> None:
    assert set(SOURCES) == {"opencv", "picamera2", "folder"}
    assert isinstance(make_source(SourceConfig(kind="folder", uri="/tmp")), FolderSource)


def test_capture_get_times_out() -> None:
    src = ScriptedSource([], fail_opens=10**6)
    cap = CaptureThread(src, retry_min_s=0.01, retry_max_s=0.01)
    cap.start()
    t0 = time.monotonic()
    assert cap.get(0.1) is None
    assert time.monotonic() - t0 >= 0.09
    cap.stop()
    assert cap.ended and src.opens >= 2


def test_unreachable_stream_fails_instead_of_blocking() -> None:
    from helpers_mosquitto import free_port

    src = OpenCvSource(f"rtsp://127.0.0.1:{free_port()}/stream")  # nothing listens there
    t0 = time.monotonic()
    with pytest.raises(SourceError, match="cannot open"):
        src.open()
    assert time.monotonic() - t0 < 15


def test_lockstep_video_file_keeps_one_frame_buffer(tmp_path: Path) -> None:
    """The daemon's loop with a file: take a frame, drop it, say done. The capture thread keeps no
    frame of its own, so every frame is decoded into one pooled buffer (and one small copy)."""
    video = tmp_path / "v.avi"
    write_video(video, 12)
    src = OpenCvSource(str(video), lores=(80, 60))
    cap = CaptureThread(src, sleep=lambda s: None, lockstep=True)
    cap.start()
    means = []
    while not cap.finished:
        f = cap.get(2.0)
        if f is None:
            continue
        means.append(round(float(f.image.mean()) / 10))
        del f
        cap.done()
    assert means == list(range(12))
    assert len(src._frames._bufs) == 1 and len(src._smalls._bufs) == 1


def test_opencv_retrieve_converts_into_the_frame_given_back(tmp_path: Path) -> None:
    video = tmp_path / "v.avi"
    write_video(video, 4)
    src = OpenCvSource(str(video), lores=(80, 60))
    src.open()
    src.grab()
    first = src.retrieve()
    assert isinstance(first, CameraFrame) and first.lores is not None and first.index == 0
    src.grab()
    second = src.retrieve(first)  # the frame nobody took: its buffers are written again
    assert isinstance(second, CameraFrame) and second.index == 1
    assert second.image is first.image and second.lores is first.lores
    assert round(float(second.image.mean()) / 10) == 1 and round(float(second.lores.mean()) / 10) == 1
    src.close()


def test_live_video_keeps_two_frame_buffers(tmp_path: Path) -> None:
    """A live source (a file paced as a camera) read by a loop slower than it: the capture thread
    grabs without a buffer and converts into the frame the loop did not take, so only the loop's
    frame and the slot's exist, and the newest frame always wins."""
    video = tmp_path / "v.avi"
    write_video(video, 25)
    src = OpenCvSource(str(video), playback_rate=40.0, lores=(80, 60))  # 400 frames/s
    assert src.live
    cap = CaptureThread(src, sleep=lambda s: None)
    cap.start()
    means, buffers = [], set()
    while not cap.finished:
        f = cap.get(2.0)
        if f is None:
            continue
        means.append(round(float(f.image.mean()) / 10))
        buffers.add(f.image.ctypes.data)
        time.sleep(0.02)  # the loop's work on the frame it holds: several frames arrive meanwhile
        del f
    assert means == sorted(set(means)) and means[-1] == 24 and len(means) < 25
    assert cap.stats.captured == 25 and cap.stats.dropped == 25 - len(means)
    assert len(buffers) <= 2 and len(src._frames._bufs) <= 2 and len(src._smalls._bufs) <= 2
