"""MQTT failures an operator must see: a refused login, a CA that does not match, a broker that goes
away and comes back. Each is logged once per change of state, with the broker's reason code or the
socket/TLS error; a real mosquitto on 127.0.0.1 plays the broker.
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers_mosquitto import Mosquitto, Subscriber, wait
from helpers_video import render_video, spaced
from test_daemon_e2e import finish, start, write_config

from edge_ocr.daemon.config import MqttConfig
from edge_ocr.daemon.sinks.mqtt import MqttSink
from edge_ocr.daemon.sinks.spool import Spool


def password_broker(tmp: Path, extra: str = "") -> Mosquitto:
    pwfile = tmp / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(pwfile), "camera", "s3cret"], check=True, capture_output=True
    )
    subprocess.run(
        ["mosquitto_passwd", "-b", str(pwfile), "watcher", "w4tch"], check=True, capture_output=True
    )
    return Mosquitto(tmp / "broker", listener_extra=f"allow_anonymous false\npassword_file {pwfile}\n{extra}")


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


def mqtt_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "edge_ocr.daemon.mqtt"]


def test_broker_lost_and_back_is_logged_once_each(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    broker = Mosquitto(tmp_path / "broker").start()
    cfg = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, reconnect_max_s=1.0, keepalive=5)
    sink = MqttSink(cfg, "gate", Spool(tmp_path / "s.db"))
    try:
        assert wait(lambda: sink.state == "connected")
        broker.stop()
        assert wait(lambda: sink.state.startswith("unreachable"))
        time.sleep(3.0)  # several reconnect attempts, each refused by the closed port
        broker.start()
        assert wait(lambda: sink.state == "connected")
    finally:
        sink.close(0.5)
        broker.stop()
    lines = mqtt_log(caplog)
    assert [ln.split(": ", 1)[1].split(":")[0] for ln in lines] == [
        "connected", "connection lost", "cannot connect", "reconnected"
    ], lines  # fmt: skip
    assert "reason code" in lines[1] and "ConnectionRefusedError" in lines[2]


def test_wrong_ca_is_logged_with_the_tls_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    key, cert = self_signed(tmp_path / "certs", "server")
    _other_key, other = self_signed(tmp_path / "certs", "other")
    broker = Mosquitto(
        tmp_path / "broker", listener_extra=f"allow_anonymous true\ncertfile {cert}\nkeyfile {key}\n"
    )
    broker.start()
    cfg = MqttConfig(
        enabled=True, host="127.0.0.1", port=broker.port, tls=True, ca_file=str(other), reconnect_max_s=1.0
    )
    t0 = time.monotonic()
    sink = MqttSink(cfg, "gate", Spool(tmp_path / "s.db"))
    try:
        assert wait(lambda: sink.state.startswith("unreachable"), 5.0)
        took = time.monotonic() - t0
        time.sleep(2.5)  # more attempts: still one line
    finally:
        sink.close(0.1)
        broker.stop()
    (line,) = mqtt_log(caplog)
    assert "SSLCertVerificationError" in line and "certificate verify failed" in line, line
    print(f"wrong CA logged after {took:.2f} s: {line}")


@pytest.mark.slow
def test_daemon_with_wrong_password_logs_it_then_delivers_after_the_fix(tmp_path: Path) -> None:
    broker = password_broker(tmp_path).start()
    sub = Subscriber(broker.port, ["edge_ocr/gate/event"], auth=("watcher", "w4tch"))
    vehicles, total = spaced(["KTR4829"])
    video = render_video(tmp_path / "one.mp4", vehicles, total, seed=4)
    pw = tmp_path / "mqtt_password"
    pw.write_text("not-the-password\n")
    auth = f'username = "camera"\npassword_file = {json.dumps(str(pw))}\n'
    cfg = write_config(tmp_path, str(video), port=broker.port)
    cfg.write_text(cfg.read_text().replace("drain_timeout_s = 10.0", "drain_timeout_s = 1.0\n" + auth))
    try:
        t0 = time.monotonic()
        proc = start(cfg)
        lines: queue.Queue[str] = queue.Queue()
        err: list[str] = []

        def pump() -> None:
            assert proc.stderr is not None
            for ln in proc.stderr:
                err.append(ln)
                lines.put(ln)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        refused = ""
        while not refused and time.monotonic() - t0 < 5.0:
            with_reason = lines.get(timeout=max(0.01, 5.0 - (time.monotonic() - t0)))
            if "refused the connection" in with_reason:
                refused = with_reason
        took = time.monotonic() - t0
        assert refused, "".join(err)
        assert "Not authorized (reason code 135)" in refused or "Bad user name or password" in refused
        assert proc.wait(120) == 0
        reader.join(5)
        text = "".join(err)
        assert text.count("refused the connection") == 1 and "Traceback" not in text, text[-3000:]
        first = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
        ids = [e["event_id"] for e in first if e.get("schema") == "edge_ocr.event/1"]
        assert ids, "the video gave no events"
        stopped = [ln for ln in err if "stopped:" in ln][-1]
        queued = Spool(tmp_path / "spool.sqlite3").depth()
        assert queued >= len(ids) and f"queue {queued}" in stopped, stopped  # the real queue, not 0
        print(f"wrong password logged {took:.2f} s after start: {refused.strip()}\n{stopped.strip()}")
        # the operator fixes the password and restarts the daemon (on an empty folder: only the spool)
        pw.write_text("s3cret\n")
        empty = tmp_path / "frames"
        empty.mkdir()
        import cv2

        cv2.imwrite(str(empty / "blank.png"), np.zeros((720, 1280, 3), np.uint8))
        cfg.write_text(
            cfg.read_text()
            .replace(f"uri = {json.dumps(str(video))}", f"uri = {json.dumps(str(empty))}")
            .replace('kind = "opencv"', 'kind = "folder"')
            .replace("drain_timeout_s = 1.0", "drain_timeout_s = 20.0")
        )
        err2 = finish(start(cfg), 120)
        got = [json.loads(p)["event_id"] for p in sub.wait_for("/event", len(ids), 10)]
        assert sorted(set(got)) == sorted(ids), err2[-2000:]
        assert "MQTT 127.0.0.1" in err2 and ": connected" in err2 and "queue 0" in err2
    finally:
        sub.close()
        broker.stop()
