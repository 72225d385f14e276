"""Resident memory of one crop-quota pass: the old way (a list of every crop in the folder) against
CropSaver's scan (only the oldest crops it may delete). Each way runs in a fresh interpreter:

    python docs/results/crop_scan_memory.py make FOLDER     # 14,000 sparse 7.5 kB crops (100 MiB)
    python docs/results/crop_scan_memory.py list FOLDER     # the old listing
    python docs/results/crop_scan_memory.py scan FOLDER     # CropSaver._scan
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def main() -> None:
    how, folder = sys.argv[1], Path(sys.argv[2])
    if how == "make":
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(14_000):
            p = folder / f"{1796256394.971 + i:.3f}_bench_DH3181_{i:08x}.jpg"
            with open(p, "wb") as f:
                f.truncate(7500)
            os.utime(p, ns=(i * 10**9, i * 10**9))
        return
    import numpy  # noqa: F401  (loaded in the daemon anyway)

    from edge_ocr.daemon.sinks.crops import CropSaver

    saver = CropSaver(folder, quota_bytes=100 * 2**20)
    r0 = rss_mib()
    t0 = time.perf_counter()
    excess = saver.total - int(saver.quota * saver.low_water)
    if how == "list":
        found = []
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(".jpg"):
                    st = e.stat()
                    found.append((st.st_mtime_ns, e.name, st.st_size))
        found.sort()
        n, acc = 0, 0
        for _t, _name, size in found:
            if acc >= excess:
                break
            acc, n = acc + size, n + 1
    else:
        _total, oldest = saver._scan(excess)
        n = len(oldest)
    ms = 1000 * (time.perf_counter() - t0)
    print(f"{how}: {n} crops to delete, {ms:.0f} ms, resident memory +{rss_mib() - r0:.2f} MiB")


if __name__ == "__main__":
    main()
