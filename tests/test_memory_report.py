"""What the daemon says of its own memory: the breakdown in its stats and a peak that is its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.bench.daemon import _status_mib
from edge_ocr.bench.daemon_report import memory_slopes
from edge_ocr.daemon.memory import breakdown

ROOT = Path(__file__).resolve().parents[1]
linux = pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")


@linux
def test_breakdown_sees_a_large_allocation_in_the_heap() -> None:
    before = breakdown()
    if "heap_used_mb" not in before:
        pytest.skip("malloc is not glibc >= 2.33 here")
    block = np.ones(64 * 1024 * 1024, dtype=np.uint8)  # 64 MiB, touched: resident and in use
    after = breakdown()
    assert after["heap_used_mb"] - before["heap_used_mb"] >= 60
    assert after["rss_anon_mb"] - before["rss_anon_mb"] >= 60
    assert after["rss_file_mb"] > 0
    del block
    assert breakdown()["heap_used_mb"] < after["heap_used_mb"] - 60


@linux
def test_peak_is_the_daemons_own_not_its_parents() -> None:
    """Linux carries ru_maxrss over from the parent at exec: a child of a 300 MiB process reports
    300 MiB there. The daemon's peak (VmHWM) and the bench's sample are the child's own."""
    ballast = np.ones(300 * 1024 * 1024, dtype=np.uint8)
    code = (
        "import resource; from edge_ocr.daemon.stats import peak_rss_mb; "
        "print(peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    own, inherited = (float(x) for x in out.stdout.split())
    assert inherited >= 300 and own < 200, out.stdout
    rss, hwm = _status_mib(os.getpid())
    assert hwm >= rss >= 300
    del ballast


def test_memory_slopes_say_which_part_grows() -> None:
    stats = [
        {
            "uptime_s": 60.0 * m,
            "rss_mb": 110.0 + m / 10,  # +6 MiB per hour
            "memory_mb": {"heap_used_mb": 30.0, "rss_file_mb": 58.0 + m / 60},  # flat, +1 MiB per hour
        }
        for m in range(31)
    ]
    rss = [(0.5 * i, 100.0) for i in range(3600)]
    got = memory_slopes(stats, rss)
    assert got["rss_mb"] == pytest.approx(6.0, abs=0.01)
    assert got["rss_file_mb"] == pytest.approx(1.0, abs=0.01)
    assert got["heap_used_mb"] == pytest.approx(0.0, abs=0.01)
    assert got["rss_sampled"] == pytest.approx(0.0, abs=0.01)
    assert memory_slopes(stats[:12]) == {}  # 11 minutes: one minute after the first ten says nothing


def test_collect_empties_the_free_lists() -> None:
    """Tuples freed by the frames wait on CPython's free lists (up to 2,000 of each size) until a
    full collection; the daemon's periodic collect() gives their blocks back to the allocator."""
    from edge_ocr.daemon.memory import collect

    collect()
    held = [tuple(range(i, i + 10)) for i in range(1500)]  # 1,500 tuples of 10 alive at once
    del held  # now on the free list, still allocated blocks
    before = sys.getallocatedblocks()
    ms = collect()
    assert ms > 0
    assert sys.getallocatedblocks() <= before - 1000


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="interned strings are immortal from Python 3.12")
def test_settle_interned_rebuilds_the_table_now() -> None:
    """settle_interned() forces the rebuild of the interned-string table (a block of at least 2^15
    slots, 0.4 MiB, allocated while it runs) and leaves no string behind; n=0 allocates nothing."""
    code = (
        "import sys, tracemalloc\n"
        "from edge_ocr.daemon.memory import settle_interned\n"
        "tracemalloc.start()\n"
        "for n in (0, 100_000):\n"
        "    tracemalloc.reset_peak(); base = tracemalloc.get_traced_memory()[0]\n"
        "    settle_interned(n)\n"
        "    now, peak = tracemalloc.get_traced_memory()\n"
        "    print(n, peak - base, now - base)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    ).stdout.split()
    vals = [int(v) for v in out]
    idle_peak, peak, kept = vals[1], vals[4], vals[5]
    assert idle_peak < 100_000
    assert peak >= 400_000  # a new table was allocated
    assert kept < 2_000_000  # the table may have grown once (2^17 slots is 1.9 MB); 100,000 strings are ~6 MB
