"""Load images defensively: a bad file must become a SourceError naming it, never a crash or a hang.

The size is checked from the header before decoding, so a decompression bomb costs nothing, and a
truncated JPEG/PNG (which OpenCV would decode silently with a grey bottom) is refused.
"""

from __future__ import annotations

import stat
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.errors import SourceError

MAX_PIXELS = 50_000_000


def _header_size(path: Path, data: bytes) -> tuple[str, int, int]:
    from io import BytesIO

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # our own limit applies below, with our own message
    try:
        with Image.open(BytesIO(data)) as im:
            return str(im.format or ""), int(im.width), int(im.height)
    except Exception as e:  # PIL raises many types for unknown or broken headers
        raise SourceError(f"{path}: not an image ({type(e).__name__})") from e


def _truncated(fmt: str, data: bytes) -> bool:
    """JPEG must end with its EOI marker, PNG with its IEND chunk (a few trailing bytes allowed)."""
    tail = data[-64:]
    if fmt == "JPEG":
        return b"\xff\xd9" not in tail
    if fmt == "PNG":
        return b"IEND" not in tail
    return False


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    kinds |= {stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device"}
    return next((name for test, name in kinds.items() if test(mode)), "not a file")


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """BGR uint8 image from a file; SourceError for missing, unreadable, huge, truncated or non-images."""
    path = Path(path)
    try:
        mode = path.stat().st_mode  # before opening: open() on a FIFO would wait for a writer for ever
        if not stat.S_ISREG(mode):
            raise SourceError(f"{path}: not a regular file ({_file_kind(mode)})")
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise SourceError(f"{path}: no such file") from e
    except OSError as e:
        raise SourceError(f"{path}: cannot read: {e.strerror or e}") from e
    if not data:
        raise SourceError(f"{path}: empty file")
    fmt, w, h = _header_size(path, data)
    if w * h > max_pixels:
        raise SourceError(f"{path}: too large ({w}x{h} = {w * h / 1e6:.0f} Mpx > {max_pixels / 1e6:.0f} Mpx)")
    if _truncated(fmt, data):
        raise SourceError(f"{path}: truncated {fmt} file")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise SourceError(f"{path}: cannot decode {fmt or 'image'}")
    return image
