"""Durable FIFO of outgoing MQTT messages in SQLite (WAL, synchronous=FULL).

Between the tracker and the broker sits a disk queue so that events survive a broker outage and a
daemon restart (power cut, watchdog kill): a message is deleted only when the broker acknowledged
it. The queue is bounded; when full, the OLDEST messages are dropped (the newest say most about
what is in front of the camera now) and the count is persisted and reported.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from edge_ocr.daemon.sinks.private import create_private
from edge_ocr.errors import ConfigError, SinkError

log = logging.getLogger("edge_ocr.daemon.spool")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class SpoolWriteError(SinkError):
    """A message could not be written; the message says why (SQLite's or the OS's words)."""


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
            create_private(self.path)  # sqlite gives the -wal and -shm files the same mode
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except OSError as e:
            raise ConfigError(f"{self.path}: cannot open the spool: {e.strerror or e}") from e
        except sqlite3.Error as e:
            raise ConfigError(f"{self.path}: cannot open the spool: {e}") from e

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
                # SQLite rolls back by itself on SQLITE_FULL/IOERR; a ROLLBACK then would fail and its
                # "no transaction is active" used to hide the real cause.
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise SpoolWriteError(f"{self.path}: cannot write to the spool: {e}") from e
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
            try:
                self._db.execute("DELETE FROM messages WHERE seq = ?", (seq,))
            except sqlite3.Error as e:  # a delete needs WAL space too
                raise SpoolWriteError(f"{self.path}: cannot delete from the spool: {e}") from e

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


class HeldSpool:
    """The spool's writing side with a bounded memory queue in front of it.

    A message that cannot be written (disk full, I/O error) is held in memory, in order, and
    written as soon as the spool takes writes again: on the next put and on every retry() (the
    publisher calls it about twice a second). Only when more than `max_held` messages wait are the
    oldest dropped, counted and logged. Every change of state is logged once, with SQLite's cause.
    """

    def __init__(self, spool: Spool, max_held: int = 1000) -> None:
        self.spool = spool
        self.max_held = max_held
        self.failures = 0  # messages not written at once (held)
        self.held_dropped = 0  # held messages dropped because the memory queue was full
        self.last_error = ""
        self._held: deque[tuple[str, str, bool]] = deque()
        self._lock = threading.Lock()

    def put(self, topic: str, payload: str, retain: bool = False) -> None:
        with self._lock:
            self._flush()  # older held messages go first
            if not self._held and self._write(topic, payload, retain):
                return
            self.failures += 1
            self._held.append((topic, payload, retain))
            if len(self._held) > self.max_held:
                self._held.popleft()
                self.held_dropped += 1
                log.error(
                    "spool %s: memory queue full (%d): oldest held message dropped (%d so far)",
                    self.spool.path, self.max_held, self.held_dropped,
                )  # fmt: skip

    def retry(self) -> None:
        if self._held:
            with self._lock:
                self._flush()

    def held(self) -> int:
        return len(self._held)

    def _flush(self) -> None:
        while self._held:
            if not self._write(*self._held[0]):
                return
            self._held.popleft()
        if self.last_error:
            log.warning("spool %s: writable again; held messages written", self.spool.path)
            self.last_error = ""

    def _write(self, topic: str, payload: str, retain: bool) -> bool:
        try:
            self.spool.put(topic, payload, retain)
        except SpoolWriteError as e:
            if str(e) != self.last_error:
                log.error("%s; holding messages in memory (up to %d) and retrying", e, self.max_held)
                self.last_error = str(e)
            return False
        return True
