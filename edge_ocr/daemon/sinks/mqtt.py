"""MQTT sink (paho-mqtt 2): events at QoS 1 through the durable spool, availability, stats, discovery.

Topics (prefix defaults to `edge_ocr`, one daemon per camera):
  <prefix>/<camera>/availability  `online` / `offline`, retained; `offline` is also the last will
  <prefix>/<camera>/event         every event, QoS 1, schema edge_ocr.event/1, unique event_id
  <prefix>/<camera>/plate         the last `new`/`update` event, retained (Home Assistant state)
  <prefix>/<camera>/stats         periodic edge_ocr.stats/1, QoS 0
  <discovery>/sensor/edge_ocr_<camera>/plate/config   Home Assistant discovery, retained

All state of the publishing side is owned by one thread; paho's callbacks only post messages to a
queue (paho calls on_publish while holding its own locks, so taking ours there could deadlock).
A spooled message is deleted only on its PUBACK; paho itself resends unacknowledged QoS 1 messages
after a reconnect, and after a restart the spool is replayed from its head, so a consumer may see a
duplicate (same event_id) but never misses an event.

The connection's state (connected, refused with the broker's reason code, unreachable with the
socket/TLS error, lost) is logged once per change: a wrong password or CA must not fail in silence,
and a broker that stays away must not fill the journal.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import sqlite3
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any

from edge_ocr import __version__
from edge_ocr.daemon.config import MqttConfig
from edge_ocr.daemon.deferred import defer
from edge_ocr.daemon.sinks.base import Stats, event_to_json
from edge_ocr.daemon.sinks.spool import HeldSpool, Spool, SpoolWriteError
from edge_ocr.errors import ConfigError
from edge_ocr.types import PlateEvent

# paho imports it at its top and needs it only with PySocks installed: 2.0 MiB (deferred.py)
defer("urllib.request")
import paho.mqtt.client as mqtt  # noqa: E402

log = logging.getLogger("edge_ocr.daemon.mqtt")


def read_password(cfg: MqttConfig, environ: dict[str, str] | None = None) -> str:
    """systemd credential first (LoadCredential=), then password_file, then the inline password."""
    env = dict(os.environ) if environ is None else environ
    cred_dir = env.get("CREDENTIALS_DIRECTORY", "")
    candidates = [Path(cred_dir) / cfg.credential] if cred_dir and cfg.credential else []
    if cfg.password_file:
        candidates.append(Path(cfg.password_file))
    for path in candidates:
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(f"key 'mqtt.password_file': cannot read {path}: {e.strerror}") from e
    if cfg.password_file:
        raise ConfigError(f"key 'mqtt.password_file': {cfg.password_file} not found")
    return cfg.password


class MqttSink:
    def __init__(
        self,
        cfg: MqttConfig,
        camera: str,
        spool: Spool,
        environ: dict[str, str] | None = None,
        max_held: int = 1000,
    ):
        self.cfg = cfg
        self.camera = camera
        self.spool = spool
        self.writer = HeldSpool(spool, max_held)
        self.state = "starting"  # connected | refused: ... | unreachable: ... | lost: ...
        self._was_connected = False
        self._acks_due: list[int] = []  # PUBACKed, but the spool could not delete them yet
        self._final: tuple[int, int] | None = None  # (queue depth, dropped) once closed
        base = f"{cfg.topic_prefix}/{camera}"
        self.topics = {k: f"{base}/{k}" for k in ("availability", "event", "plate", "stats")}
        self._inbox: queue.Queue[tuple[str, int]] = queue.Queue()
        self._inflight: dict[int, int] = {}  # paho mid -> spool seq
        self._cursor = 0  # highest seq handed to paho
        self._connected = threading.Event()
        self._stop = threading.Event()
        self.published = 0
        self.acked = 0
        self.client = self._make_client(environ)
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self.client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive)
        self.client.loop_start()
        self._thread.start()

    def _make_client(self, environ: dict[str, str] | None) -> mqtt.Client:
        cfg = self.cfg
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id or f"edge-ocr-{self.camera}"
        )
        client.will_set(self.topics["availability"], "offline", qos=1, retain=True)
        password = read_password(cfg, environ)
        if cfg.username:
            client.username_pw_set(cfg.username, password or None)
        if cfg.tls:
            client.tls_set(
                ca_certs=cfg.ca_file or None,
                certfile=cfg.cert_file or None,
                keyfile=cfg.key_file or None,
                cert_reqs=ssl.CERT_NONE if cfg.tls_insecure else ssl.CERT_REQUIRED,
            )
            client.tls_insecure_set(cfg.tls_insecure)
        client.reconnect_delay_set(1, int(cfg.reconnect_max_s))
        client.max_inflight_messages_set(cfg.inflight)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _set_state(self, state: str, level: int, text: str) -> None:
        """Log a connection state once, when it changes (paho retries every few seconds)."""
        if state != self.state:
            self.state = state
            log.log(level, "MQTT %s:%d: %s", self.cfg.host, self.cfg.port, text)

    # paho callbacks (network thread): post, never block
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            why = f"{reason} (reason code {reason.value})"
            self._set_state(f"refused: {why}", logging.ERROR, f"the broker refused the connection: {why}")
            return
        self._set_state("connected", logging.INFO, "reconnected" if self._was_connected else "connected")
        self._was_connected = True
        client.publish(self.topics["availability"], "online", qos=1, retain=True)
        if self.cfg.discovery:
            client.publish(self._discovery_topic(), json.dumps(self._discovery()), qos=1, retain=True)
        self._connected.set()
        self._inbox.put(("wake", 0))

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        # paho calls this inside its `except OSError`, so the socket or TLS error is still at hand.
        exc = sys.exc_info()[1]
        why = f"{type(exc).__name__}: {exc}" if exc is not None else "connection failed"
        self._set_state(f"unreachable: {why}", logging.ERROR, f"cannot connect: {why}")

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._connected.clear()
        if self.state == "connected" and not self._stop.is_set():
            why = f"{reason} (reason code {reason.value})"
            self._set_state(f"lost: {why}", logging.WARNING, f"connection lost: {why}; reconnecting")

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        self._inbox.put(("ack", mid))

    # the publisher thread
    def _run(self) -> None:
        while True:
            try:
                kind, mid = self._inbox.get(timeout=0.5)
            except queue.Empty:
                kind, mid = "wake", 0
            if kind == "ack":
                seq = self._inflight.pop(mid, None)
                if seq is not None:
                    self._acks_due.append(seq)
                    self.acked += 1
            elif kind == "quit":
                return
            try:
                self._ack_due()
                self.writer.retry()
                self._send_more()
            except sqlite3.Error as e:  # an I/O error while reading: try again on the next wake-up
                log.error("spool %s: %s", self.spool.path, e)

    def _ack_due(self) -> None:
        """Delete acknowledged messages; with the disk full they wait (a restart would resend them)."""
        while self._acks_due:
            try:
                self.spool.ack(self._acks_due[0])
            except SpoolWriteError:
                return  # HeldSpool logs the same cause; retried on the next wake-up
            self._acks_due.pop(0)

    def _send_more(self) -> None:
        room = self.cfg.inflight - len(self._inflight)
        if room <= 0 or not self._connected.is_set():
            return
        for item in self.spool.peek(after=self._cursor, limit=room):
            info = self.client.publish(item.topic, item.payload, qos=1, retain=item.retain)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                break  # not queued by paho: try again on the next wake-up
            self._inflight[info.mid] = item.seq
            self._cursor = item.seq
            self.published += 1

    def emit(self, event: PlateEvent) -> None:
        if event.kind not in self.cfg.kinds:
            return
        payload = json.dumps(event_to_json(event), separators=(",", ":"))
        self.writer.put(self.topics["event"], payload)
        if event.kind in ("new", "update"):
            self.writer.put(self.topics["plate"], payload, retain=True)
        self._inbox.put(("wake", 0))

    def publish_stats(self, stats: Stats) -> None:
        if self._connected.is_set():
            self.client.publish(self.topics["stats"], json.dumps(stats.to_json()), qos=0)

    def queue_depth(self) -> int:
        """Messages not yet acknowledged by the broker: in the spool plus held in memory."""
        if self._final is not None:
            return self._final[0]
        return self.spool.depth() - len(self._acks_due) + self.writer.held()

    def dropped(self) -> int:
        if self._final is not None:
            return self._final[1]
        return self.spool.dropped() + self.writer.held_dropped

    def failures(self) -> int:
        return self.writer.failures

    def reopen(self) -> None:
        pass

    def close(self, timeout: float = 5.0) -> None:
        """Try to drain the spool for up to `timeout` seconds, then go offline; the rest stays spooled."""
        deadline = time.monotonic() + timeout
        while self.queue_depth() and time.monotonic() < deadline:  # the broker may come back meanwhile
            self._inbox.put(("wake", 0))
            time.sleep(0.05)
        self._stop.set()
        self._inbox.put(("quit", 0))
        self._thread.join(2.0)
        self.writer.retry()
        self._final = (self.queue_depth(), self.dropped())
        if self.writer.held():
            log.error(
                "spool %s: %d messages could not be written and are lost: %s",
                self.spool.path, self.writer.held(), self.writer.last_error,
            )  # fmt: skip
        elif self._final[0]:
            log.info("spool %s: %d messages kept for the next start", self.spool.path, self._final[0])
        if self._connected.is_set():
            info = self.client.publish(self.topics["availability"], "offline", qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=max(0.5, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()
        self.spool.close()

    def _discovery_topic(self) -> str:
        return f"{self.cfg.discovery_prefix}/sensor/edge_ocr_{self.camera}/plate/config"

    def _discovery(self) -> dict[str, Any]:
        node = f"edge_ocr_{self.camera}"
        return {
            "name": "Last plate",
            "unique_id": f"{node}_plate",
            "object_id": f"{node}_plate",
            "state_topic": self.topics["plate"],
            "value_template": "{{ value_json.plate }}",
            "json_attributes_topic": self.topics["plate"],
            "availability_topic": self.topics["availability"],
            "payload_available": "online",
            "payload_not_available": "offline",
            "icon": "mdi:car",
            "device": {
                "identifiers": [node],
                "name": f"edge_ocr {self.camera}",
                "manufacturer": "edge_ocr",
                "sw_version": __version__,
            },
        }
