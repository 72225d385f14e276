from __future__ import annotations

from pathlib import Path

from edge_ocr.daemon.sinks.spool import Spool


def test_fifo_ack_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "state" / "spool.sqlite3"
    s = Spool(path, max_messages=100)
    seqs = [s.put("t/event", f"m{i}") for i in range(5)]
    assert seqs == sorted(seqs)
    items = s.peek()
    assert [i.payload for i in items] == [f"m{i}" for i in range(5)]
    assert [i.payload for i in s.peek(after=seqs[1], limit=2)] == ["m2", "m3"]
    s.ack(seqs[0])
    s.ack(seqs[2])
    s.close()
    # a restart sees what was not acknowledged, in order
    s2 = Spool(path, max_messages=100)
    assert [i.payload for i in s2.peek()] == ["m1", "m3", "m4"]
    assert s2.depth() == 3
    new = s2.put("t/plate", "m5", retain=True)
    assert new > seqs[-1]
    assert s2.peek()[-1].retain


def test_bounded_drops_oldest_and_counts(tmp_path: Path) -> None:
    s = Spool(tmp_path / "s.db", max_messages=3)
    for i in range(7):
        s.put("t", str(i))
    assert [i.payload for i in s.peek()] == ["4", "5", "6"]
    assert s.dropped() == 4
    s.close()
    assert Spool(tmp_path / "s.db", max_messages=3).dropped() == 4  # the count survives restarts


def test_wal_mode(tmp_path: Path) -> None:
    import sqlite3

    Spool(tmp_path / "s.db").put("t", "x")
    mode = sqlite3.connect(tmp_path / "s.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
