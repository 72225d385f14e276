"""glibc malloc set for a daemon whose capture thread allocates frames that the loop frees.

glibc gives each thread that allocates its own arena: frames decoded on the capture thread live in
a second arena whose heap is shrunk (pages handed back, then faulted in again, zeroed) each time
the loop frees one. One arena for the whole process keeps them in the main heap instead; measured
with `bench daemon` on 600 frames of 1280x720 (device install, lines detector on a 640x360 copy,
MQTT + log + crops): system time 4.9 s (glibc's default arenas) / 4.2 s (two) / 2.0 s (one), the
loop's CPU per frame 23.1 / 21.1 / 16.6 ms, peak RSS 126 / 127 / 129 MiB. `malloc_trim` after each
status tick gives the heap's free pages back. A fixed mmap threshold (256 KiB) was tried too and
dropped: every large temporary then costs an mmap and page faults (system time 3.5 -> 6.4 s per
90 frames). Elsewhere than glibc (musl, macOS) these calls are absent and nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import sys
import time

log = logging.getLogger("edge_ocr.daemon.memory")

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL(None)  # the interpreter's own symbols: libc's among them, no ldconfig call
    except OSError:
        return None
    return lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None


def tune_malloc(arenas: int = 1, mmap_threshold: int = 0) -> bool:
    """Cap the arenas (and fix the mmap threshold when > 0); call before the threads start.
    False where malloc is not glibc's."""
    lib = _libc()
    if lib is None:
        return False
    settings = [(M_ARENA_MAX, arenas)]
    if mmap_threshold > 0:
        settings += [(M_MMAP_THRESHOLD, mmap_threshold), (M_TRIM_THRESHOLD, 2 * mmap_threshold)]
    ok = all(lib.mallopt(param, value) == 1 for param, value in settings)
    if not ok:
        log.warning("mallopt refused a setting; the memory figures of docs/DAEMON.md may not hold")
    return ok


def proc_status(keys: tuple[str, ...], pid: int | str = "self") -> dict[str, float]:
    """Lines of /proc/PID/status (VmRSS, VmHWM, RssAnon, ...) in MiB; the keys found (none where
    there is no /proc, or once the process is gone)."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in keys:
                    out[key] = int(rest.split()[0]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return out


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"
        )
    ]


def breakdown() -> dict[str, float]:
    """Where the resident memory is, MiB: anonymous and file-backed pages (/proc), and malloc's
    heap in use and free but kept (glibc >= 2.33's mallinfo2). A slow rise of `rss_anon_mb` with
    `heap_used_mb` flat is the heap's fragmentation; with `heap_used_mb` rising, something keeps
    allocations (a leak); a rise of `rss_file_mb` is code and mapped files paged in. Keys that
    cannot be measured here are absent."""
    pages = proc_status(("RssAnon", "RssFile"))
    out = {f"rss_{key[3:].lower()}_mb": round(mib, 2) for key, mib in pages.items()}
    lib = _libc()
    if lib is not None and hasattr(lib, "mallinfo2"):
        lib.mallinfo2.restype = _MallInfo2
        mi = lib.mallinfo2()
        mib = 1024.0 * 1024.0
        out["heap_used_mb"] = round((mi.uordblks + mi.hblkhd) / mib, 2)
        out["heap_free_mb"] = round(mi.fordblks / mib, 2)
    return out


def trim() -> None:
    """Give the heap's free pages back to the system (glibc only)."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)


def collect(freeze: bool = False) -> float:
    """A full garbage collection; returns the milliseconds it took. `freeze`: then move every object
    alive (models, modules, buffers: the daemon's first minute) out of the collector's sight, so the
    later collections scan only what the frames made since.

    Steady state makes almost no cyclic garbage, so Python's own full collections come rarely (only
    when the old generation has grown by a quarter), and until one comes CPython keeps the tuples,
    lists, dicts and floats that the frames free on its free lists. Python 3.11 keeps freed tuples of
    20 items there and never reuses them (CPython gh-121439): up to 2,000 of them, 208 bytes each,
    one more whenever a plate of 20 contour tiles is stacked. A full collection empties the free
    lists, so their blocks serve the next frames instead of new pages (docs/DAEMON.md, session 13).
    The first (`freeze`) also settles the interned-string table (settle_interned)."""
    t0 = time.perf_counter()
    gc.collect()
    if freeze:
        settle_interned()
        gc.freeze()
    return (time.perf_counter() - t0) * 1000.0


def settle_interned(n: int = 100_000) -> None:
    """Bring Python's table of interned strings to its steady size now, not an hour into the run.

    Interned strings that die leave their slot used until the table is rebuilt, and the rebuild
    sizes it for three times the strings alive. A daemon holds about 22,000-44,000 of them (its
    modules' names), so its table starts with 2^16 slots (0.92 MiB) and the first rebuild, after
    some thousands of strings have been interned and freed (57 and 94 minutes into two runs), takes
    2^17 (1.83 MiB) from glibc's heap: the +0.92 MiB step of d14 and d19 (docs/DAEMON.md, session 14;
    found with an LD_PRELOAD malloc tracer: the 961,216-byte block came from PyDict_SetDefault in
    PyUnicode_InternInPlace). Later rebuilds keep that size. Interning and freeing `n` throwaway
    strings (about 40 ms) forces that first rebuild here, while the daemon settles in. Python 3.11
    only: 3.12 made interned strings immortal (PEP 683), so there they would never be freed."""
    if sys.version_info[:2] != (3, 11):
        return
    for i in range(n):
        sys.intern(f"\x00edge-ocr-settle-{i}")
