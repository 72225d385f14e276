"""glibc malloc tuned for a long-running daemon that handles frames of a few megabytes.

Measured with `edge-ocr bench daemon` (docs/DAEMON.md): without this the resident size grows by
tens of MiB above what the frame loop holds, for two reasons of glibc's defaults:
* a frame (1280x720x3 = 2.7 MB) is above the mmap threshold, so it is mmapped and unmapped again;
  but glibc raises that threshold to the size of every mmapped block freed, after which frames
  come from the heap, whose top cannot shrink past a block still in use: freed frames stay
  resident. A fixed threshold keeps every block of 256 KiB or more mmapped (returned on free).
* every thread that allocates (capture, MQTT, the loop) gets its own arena of up to 64 MiB;
  two arenas are plenty for three threads that mostly wait.
`malloc_trim` after the periodic stats gives back what the small-block heap has free.
Elsewhere than glibc (musl, macOS) these calls are absent and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

log = logging.getLogger("edge_ocr.daemon.memory")

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    return lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None


def tune_malloc(mmap_threshold: int = 256 * 1024, arenas: int = 2) -> bool:
    """Set the thresholds above; call before the threads start. False where malloc is not glibc's."""
    lib = _libc()
    if lib is None:
        return False
    ok = all(
        lib.mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, mmap_threshold),
            (M_TRIM_THRESHOLD, 2 * mmap_threshold),
            (M_ARENA_MAX, arenas),
        )
    )
    if not ok:
        log.warning("mallopt refused a setting; the memory figures of docs/DAEMON.md may not hold")
    return ok


def trim() -> None:
    """Give the heap's free pages back to the system (glibc only)."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
