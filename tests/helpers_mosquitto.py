"""A real mosquitto broker on 127.0.0.1 (free port) as a child process, for integration tests.

Persistence is on, so a subscriber's persistent session (clean_session=False, QoS 1) survives a
broker stop/start, as it would on a real installation.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def wait(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `cond` every 50 ms until it holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    def __init__(self, workdir: Path, port: int | None = None, listener_extra: str = "") -> None:
        exe = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if exe is None:
            pytest.fail(
                "mosquitto is not installed (apt-get install mosquitto; scripts/setup.sh all does it)"
            )
        self.exe = exe
        self.port = port or free_port()
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            # started as root, mosquitto would drop to user `mosquitto`, which cannot write pytest's
            # 0700 tmp dirs (persistence would silently fail); stay the test's own user instead
            f"user {getpass.getuser()}\n"
            + (listener_extra or "allow_anonymous true\n")
            + "persistence true\n"
            f"persistence_location {self.dir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 100000\n"
            f"log_dest file {self.dir}/mosquitto.log\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen(
            [self.exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


class Subscriber:
    """Collects messages on `topics`; persistent session so broker restarts lose nothing."""

    def __init__(
        self,
        port: int,
        topics: list[str],
        client_id: str = "test-subscriber",
        auth: tuple[str, str] | None = None,
    ) -> None:
        import threading

        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.reconnect_delay_set(1, 2)
        if auth is not None:
            self.client.username_pw_set(*auth)

        def on_connect(client, userdata, flags, reason, props):  # type: ignore[no-untyped-def]
            for t in topics:
                client.subscribe(t, qos=1)
            self.connected.set()

        def on_disconnect(client, userdata, flags, reason, props):  # type: ignore[no-untyped-def]
            self.connected.clear()

        def on_message(client, userdata, msg):  # type: ignore[no-untyped-def]
            with self._lock:
                self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_disconnect = on_disconnect
        self.client.on_message = on_message
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("subscriber could not connect")
        time.sleep(0.2)  # let SUBACK arrive

    def payloads(self, topic_suffix: str) -> list[bytes]:
        with self._lock:
            return [p for t, p, _r in self.messages if t.endswith(topic_suffix)]

    def wait_for(self, topic_suffix: str, count: int, timeout: float) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.payloads(topic_suffix)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return self.payloads(topic_suffix)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
