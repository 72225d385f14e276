"""The spool on a full disk: the real cause is logged once, every message is held in memory and
retried, counters say so, and nothing is lost once space returns.

The full disk is real where the test may mount a 256 KiB tmpfs (root); elsewhere that test is
skipped with the reason, and the same path is driven by an injected sqlite3.OperationalError.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_mosquitto import Mosquitto, Subscriber, wait

from edge_ocr.daemon.config import MqttConfig
from edge_ocr.daemon.sinks.mqtt import MqttSink
from edge_ocr.daemon.sinks.spool import Spool
from edge_ocr.errors import ConfigError
from edge_ocr.types import Box, PlateEvent


def event(i: int) -> PlateEvent:
    return PlateEvent(
        "end", f"ev{i}", "gate", i, f"ABC{i:03d}", 0.9, 1.7e9 + i, 1.7e9, 1.7e9 + i, 5, Box(0, 0, 1, 1)
    )



@pytest.fixture()
def small_fs(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "small"
    d.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(d)], capture_output=True, text=True
    )
    if r.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({r.stderr.strip()}); test_injected_write_error covers the logic"
        )
    yield d
    subprocess.run(["umount", "-l", str(d)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


@pytest.fixture()
def broker_down(tmp_path: Path) -> Iterator[tuple[Mosquitto, Subscriber]]:
    """A broker whose subscriber has a persistent session, then stopped: the sink starts offline."""
    broker = Mosquitto(tmp_path / "broker").start()
    sub = Subscriber(broker.port, ["edge_ocr/gate/event"])
    broker.stop()
    yield broker, sub
    sub.close()
    broker.stop()


def sink_on(spool: Path, port: int) -> MqttSink:
    cfg = MqttConfig(enabled=True, host="127.0.0.1", port=port, reconnect_max_s=1.0, keepalive=5)
    return MqttSink(cfg, "gate", Spool(spool), max_held=50)


def spool_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.endswith("spool") and r.levelno >= logging.ERROR]


def delivered(broker: Mosquitto, sub: Subscriber, sink: MqttSink) -> list[str]:
    broker.start()
    got = sub.wait_for("/event", 10, 20)
    assert wait(lambda: sink.queue_depth() == 0)
    sink.close(1.0)
    return [json.loads(p)["event_id"] for p in got]


def test_full_tmpfs(
    small_fs: Path, broker_down: tuple[Mosquitto, Subscriber], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    broker, sub = broker_down
    sink = sink_on(small_fs / "spool.sqlite3", broker.port)
    for i in range(3):
        sink.emit(event(i))
    filler = fill(small_fs)
    for i in range(3, 10):
        sink.emit(event(i))
    errors = spool_errors(caplog)
    assert len(errors) == 1 and "database or disk is full" in errors[0], errors
    assert "rollback" not in caplog.text.lower()
    assert (sink.failures(), sink.writer.held(), sink.queue_depth(), sink.dropped()) == (7, 7, 10, 0)
    filler.unlink()  # space returns
    assert wait(lambda: sink.writer.held() == 0, 5.0)  # retried by the publisher, no new event needed
    assert sink.spool.depth() == 10 and sink.failures() == 7 and sink.dropped() == 0
    assert any("writable again" in r.getMessage() for r in caplog.records)
    assert delivered(broker, sub, sink) == [f"ev{i}" for i in range(10)]  # all, in order, once


class FailingDb:
    """sqlite3.Connection stand-in: INSERTs fail with an I/O error while `failing` is set."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.failing = False

    def execute(self, sql: str, *args: Any) -> Any:
        if self.failing and sql.startswith("INSERT INTO messages"):
            raise sqlite3.OperationalError("disk I/O error")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def test_injected_write_error(
    tmp_path: Path, broker_down: tuple[Mosquitto, Subscriber], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    broker, sub = broker_down
    sink = sink_on(tmp_path / "spool.sqlite3", broker.port)
    fake = FailingDb(sink.spool._db)
    sink.spool._db = fake  # type: ignore[assignment]
    for i in range(3):
        sink.emit(event(i))
    fake.failing = True
    for i in range(3, 10):
        sink.emit(event(i))
    errors = spool_errors(caplog)
    assert len(errors) == 1 and "disk I/O error" in errors[0], errors
    assert (sink.failures(), sink.writer.held(), sink.queue_depth(), sink.dropped()) == (7, 7, 10, 0)
    fake.failing = False
    assert wait(lambda: sink.writer.held() == 0, 5.0)
    assert delivered(broker, sub, sink) == [f"ev{i}" for i in range(10)]


def test_memory_queue_is_bounded_and_its_drops_counted(tmp_path: Path) -> None:
    sink = sink_on(tmp_path / "spool.sqlite3", 1)  # port 1: nothing listens
    fake = FailingDb(sink.spool._db)
    sink.spool._db = fake  # type: ignore[assignment]
    fake.failing = True
    for i in range(60):
        sink.emit(event(i))
    assert (sink.failures(), sink.writer.held(), sink.dropped(), sink.queue_depth()) == (60, 50, 10, 50)
    fake.failing = False
    assert wait(lambda: sink.writer.held() == 0, 5.0)
    assert [i.payload for i in sink.spool.peek(limit=1)][0].count('"ev10"') == 1  # oldest went first
    sink.close(0.1)


def test_spool_that_cannot_open_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"file/spool.sqlite3: cannot open the spool: Not a directory"):
        Spool(tmp_path / "file" / "spool.sqlite3")
    (tmp_path / "junk.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match=r"junk.sqlite3: cannot open the spool: file is not a database"):
        Spool(tmp_path / "junk.sqlite3")


def test_run_with_a_spool_that_cannot_open_exits_2_naming_it(tmp_path: Path) -> None:
    import sys

    (tmp_path / "taken").write_text("a file where the spool's folder should be\n")
    spool = tmp_path / "taken" / "spool.sqlite3"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[source]\nkind = "folder"\nuri = "{tmp_path}"\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = 1\n'
        f'[spool]\npath = "{spool}"\n'
    )
    repo = Path(__file__).resolve().parent.parent
    r = subprocess.run(
        [sys.executable, "-m", "edge_ocr", "run", "--config", str(cfg)],
        capture_output=True, text=True, cwd=repo, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert f"edge-ocr: {spool}: cannot open the spool: Not a directory" in r.stderr
    assert "Traceback" not in r.stderr
