"""Durable FIFO of outgoing MQTT messages in SQLite (WAL, synchronous=FULL).

Between the tracker and the broker sits a disk queue so that events survive a broker outage and a
daemon restart (power cut, watchdog kill): a message is deleted only when the broker acknowledged
it. The queue is bounded; when full, the OLDEST messages are dropped (the newest say most about
what is in front of the camera now) and the count is persisted and reported.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from edge_ocr.errors import SinkError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class SpoolItem:
    seq: int
    topic: str
    payload: str
    retain: bool


class Spool:
    def __init__(self, path: str | Path, max_messages: int = 100000) -> None:
        self.path = Path(path)
        self.max_messages = max_messages
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise SinkError(f"{self.path}: cannot open spool: {e}") from e

    def put(self, topic: str, payload: str, retain: bool = False) -> int:
        """Append durably (fsynced before returning); returns the sequence number."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cur = self._db.execute(
                    "INSERT INTO messages (topic, payload, retain) VALUES (?, ?, ?)",
                    (topic, payload, int(retain)),
                )
                excess = self._depth() - self.max_messages
                if excess > 0:
                    self._db.execute(
                        "DELETE FROM messages WHERE seq IN (SELECT seq FROM messages ORDER BY seq LIMIT ?)",
                        (excess,),
                    )
                    self._db.execute(
                        "INSERT INTO counters VALUES ('dropped', ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                        (excess,),
                    )
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                self._db.execute("ROLLBACK")
                raise SinkError(f"{self.path}: cannot write spool: {e}") from e
            return int(cur.lastrowid or 0)

    def peek(self, after: int = 0, limit: int = 100) -> list[SpoolItem]:
        """Oldest messages with seq > `after`, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, retain FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [SpoolItem(int(s), str(t), str(p), bool(r)) for s, t, p, r in rows]

    def ack(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages WHERE seq = ?", (seq,))

    def _depth(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    def depth(self) -> int:
        with self._lock:
            return self._depth()

    def dropped(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()
