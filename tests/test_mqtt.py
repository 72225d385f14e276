"""MqttSink against a real mosquitto on 127.0.0.1: topics, retained state, discovery, last will,
and the spool carrying events over a broker outage and a sink restart."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_mosquitto import Mosquitto, Subscriber, wait

from edge_ocr.daemon.config import MqttConfig
from edge_ocr.daemon.sinks.base import Stats
from edge_ocr.daemon.sinks.mqtt import MqttSink
from edge_ocr.daemon.sinks.spool import Spool
from edge_ocr.types import Box, PlateEvent


@pytest.fixture()
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()


def event(i: int, kind: str = "new") -> PlateEvent:
    return PlateEvent(
        kind, f"ev{i}", "gate", i, f"ABC{i:03d}", 0.9, 1.7e9 + i, 1.7e9, 1.7e9 + i, 5, Box(0, 0, 1, 1)
    )


def sink_for(port: int, spool: Path, **kw: object) -> MqttSink:
    cfg = MqttConfig(enabled=True, host="127.0.0.1", port=port, reconnect_max_s=1.0, keepalive=5, **kw)  # type: ignore[arg-type]
    return MqttSink(cfg, "gate", Spool(spool))



def test_topics_retained_discovery_and_will(mosquitto: Mosquitto, tmp_path: Path) -> None:
    sub = Subscriber(mosquitto.port, ["edge_ocr/#", "homeassistant/#"])
    sink = sink_for(mosquitto.port, tmp_path / "s.db")
    assert wait(lambda: sub.payloads("/availability") == [b"online"])
    for i in range(3):
        sink.emit(event(i))
    sink.emit(event(2, "end"))
    events = [json.loads(p) for p in sub.wait_for("/event", 4, 10)]
    assert [e["event_id"] for e in events] == ["ev0", "ev1", "ev2", "ev2"]
    assert [e["kind"] for e in events][-1] == "end" and events[0]["schema"] == "edge_ocr.event/1"
    disc = json.loads(sub.wait_for("/plate/config", 1, 5)[0])
    assert (
        disc["state_topic"] == "edge_ocr/gate/plate"
        and disc["availability_topic"] == "edge_ocr/gate/availability"
    )
    assert disc["unique_id"] == "edge_ocr_gate_plate" and disc["value_template"] == "{{ value_json.plate }}"
    sink.publish_stats(Stats("gate", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13))
    assert json.loads(sub.wait_for("/stats", 1, 5)[0])["frames_in"] == 4
    assert wait(lambda: sink.queue_depth() == 0)
    # a late subscriber gets the retained last plate and availability
    late = Subscriber(mosquitto.port, ["edge_ocr/gate/plate", "edge_ocr/gate/availability"], "late")
    assert json.loads(late.wait_for("/plate", 1, 5)[0])["plate"] == "ABC002"
    assert late.messages and all(r for _t, _p, r in late.messages)
    # an unclean loss of the connection publishes the last will
    sink.client.loop_stop()
    sink.client.socket().close()  # type: ignore[union-attr]
    assert wait(lambda: sub.payloads("/availability")[-1:] == [b"offline"])
    sub.close()
    late.close()


def test_broker_outage_then_restart_of_sink(mosquitto: Mosquitto, tmp_path: Path) -> None:
    sub = Subscriber(mosquitto.port, ["edge_ocr/gate/event"])
    spool_path = tmp_path / "s.db"
    sink = sink_for(mosquitto.port, spool_path)
    sink.emit(event(0))
    assert sub.wait_for("/event", 1, 10)
    mosquitto.stop()
    for i in range(1, 6):
        sink.emit(event(i))
    assert sink.queue_depth() >= 5  # spooled (plus retained plate messages)
    mosquitto.start()
    got = sub.wait_for("/event", 6, 20)
    assert sorted({json.loads(p)["event_id"] for p in got}) == [f"ev{i}" for i in range(6)]
    assert wait(lambda: sink.queue_depth() == 0)
    # broker down again, the sink (daemon) stops with events in its spool ...
    mosquitto.stop()
    for i in range(6, 9):
        sink.emit(event(i))
    sink.close(timeout=0.5)
    assert Spool(spool_path).depth() >= 3
    # ... and a new sink on the same spool delivers them once the broker is back
    mosquitto.start()
    sink2 = sink_for(mosquitto.port, spool_path)
    got = sub.wait_for("/event", 9, 20)
    ids = [json.loads(p)["event_id"] for p in got]
    assert sorted(set(ids)) == [f"ev{i}" for i in range(9)]
    assert ids.index("ev6") < ids.index("ev7") < ids.index("ev8")  # replayed in order
    assert wait(lambda: sink2.queue_depth() == 0)
    sink2.close(2.0)
    sub.close()


def test_tls_and_password_from_systemd_credential(tmp_path: Path) -> None:
    import subprocess

    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(certs / "key.pem"), "-out", str(certs / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    pwfile = certs / "passwd"
    pwfile.touch()
    subprocess.run(
        ["mosquitto_passwd", "-b", str(pwfile), "camera", "s3cret"], check=True, capture_output=True
    )
    extra = (
        f"allow_anonymous false\npassword_file {pwfile}\n"
        f"certfile {certs / 'cert.pem'}\nkeyfile {certs / 'key.pem'}\n"
    )
    broker = Mosquitto(tmp_path / "broker", listener_extra=extra).start()
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "mqtt_password").write_text("s3cret\n")
    try:
        cfg = MqttConfig(
            enabled=True, host="127.0.0.1", port=broker.port, tls=True, ca_file=str(certs / "cert.pem"),
            username="camera", password="wrong-inline-password", reconnect_max_s=1.0,
        )  # fmt: skip
        sink = MqttSink(cfg, "gate", Spool(tmp_path / "s.db"), environ={"CREDENTIALS_DIRECTORY": str(creds)})
        sink.emit(event(1))
        assert wait(lambda: sink.queue_depth() == 0 and sink.acked >= 1)
        sink.close(2.0)
        # the inline password alone is refused: nothing gets through
        bad = MqttSink(cfg, "gate", Spool(tmp_path / "s2.db"), environ={})
        bad.emit(event(2))
        time.sleep(1.5)
        assert bad.queue_depth() > 0 and bad.acked == 0
        bad.close(0.1)
    finally:
        broker.stop()
