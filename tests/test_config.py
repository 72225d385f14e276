from __future__ import annotations

from pathlib import Path

import pytest

from edge_ocr.daemon.config import (
    Config,
    DaemonConfig,
    check_environment,
    config_from_dict,
    load_config,
    state_path,
)
from edge_ocr.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_defaults_and_values(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, '[source]\nuri = "v.mp4"\ncamera = "gate"\n[tracker]\nmin_frames = 4\n')
    )
    assert cfg.source.uri == "v.mp4" and cfg.source.camera == "gate"
    assert cfg.tracker.min_frames == 4
    assert cfg.mqtt == Config().mqtt
    assert isinstance(cfg.log.kinds, tuple)


def test_int_accepted_for_float() -> None:
    assert config_from_dict({"tracker": {"end_after_s": 2}}).tracker.end_after_s == 2.0


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[source]\nurl = 'x'\n", "source.url"),
        ("[sorce]\nuri = 'x'\n", "sorce"),
        ("[tracker]\nmin_frames = 0\n", "tracker.min_frames"),
        ("[tracker]\nmin_frames = 'three'\n", "tracker.min_frames"),
        ("[tracker]\nmin_frames = true\n", "tracker.min_frames"),
        ("[reader]\nbackend = 'cuda'\n", "reader.backend"),
        ("[mqtt]\nport = 70000\n", "mqtt.port"),
        ("[mqtt]\ntls = 'yes'\n", "mqtt.tls"),
        ("[log]\nkinds = ['new', 'bogus']\n", "log.kinds"),
        ("[source]\ncamera = 'a/b'\n", "source.camera"),
        ("[source]\nretry_min_s = 5.0\nretry_max_s = 1.0\n", "source.retry_max_s"),
        ("source = 3\n", "source"),
        ("[tracker]\nend_after_s = nan\n", "tracker.end_after_s"),
        ("[tracker]\ncooldown_s = inf\n", "tracker.cooldown_s"),
        ("[source]\nfps = -inf\n", "source.fps"),
        ("[mqtt]\nenabled = true\ndrain_timeout_s = 26.0\n", "mqtt.drain_timeout_s"),
        (
            "[mqtt]\nenabled = true\ndrain_timeout_s = 10.0\n[daemon]\nstop_timeout_s = 12.0\n",
            "mqtt.drain_timeout_s",
        ),
    ],
)
def test_bad_config_names_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=f"'{key}'"):
        load_config(write(tmp_path, text))


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[source\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_no_sink_is_an_error() -> None:
    with pytest.raises(ConfigError, match="log.enabled"):
        config_from_dict({"log": {"enabled": False}})


def test_example_config_is_valid() -> None:
    cfg = load_config(REPO / "systemd" / "edge-ocr.toml")
    assert cfg.mqtt.enabled
    assert cfg.mqtt.tls or not cfg.mqtt.username  # never a password in clear
    unit = (REPO / "systemd" / "edge-ocr.service").read_text()
    assert f"TimeoutStopSec={cfg.daemon.stop_timeout_s:g}\n" in unit
    assert cfg.daemon.stop_timeout_s == DaemonConfig().stop_timeout_s
    assert check_environment(cfg) == []


def test_nan_and_inf_are_refused_with_the_reason() -> None:
    for value in (float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="'tracker.end_after_s' must be a finite number"):
            config_from_dict({"tracker": {"end_after_s": value}})


def test_files_and_password_warning_shared_by_check_config_and_run(tmp_path: Path) -> None:
    on = {"enabled": True, "host": "broker.lan", "username": "cam"}
    missing = config_from_dict({"mqtt": {**on, "tls": True, "password_file": str(tmp_path / "pw")}})
    with pytest.raises(ConfigError, match="'mqtt.password_file'.*does not exist"):
        check_environment(missing)
    with pytest.raises(ConfigError, match="'mqtt.ca_file'"):
        check_environment(config_from_dict({"mqtt": {**on, "tls": True, "ca_file": str(tmp_path / "ca")}}))
    (warning,) = check_environment(config_from_dict({"mqtt": on}))
    assert "tls = false" in warning and "broker.lan" in warning
    assert check_environment(config_from_dict({"mqtt": {**on, "host": "127.0.0.1"}})) == []


def test_state_path() -> None:
    assert state_path("spool.db", {"STATE_DIRECTORY": "/var/lib/edge-ocr"}) == Path(
        "/var/lib/edge-ocr/spool.db"
    )
    assert state_path("spool.db", {}) == Path("spool.db")
    assert state_path("/abs/x", {"STATE_DIRECTORY": "/s"}) == Path("/abs/x")


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edge_ocr.cli import main

    assert main(["check-config", str(REPO / "systemd" / "edge-ocr.toml")]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["check-config", str(write(tmp_path, "[mqtt]\nprot = 1\n"))]) == 2
    assert "'mqtt.prot'" in capsys.readouterr().err
    assert main(["check-config", str(write(tmp_path, "[known]\nfile = '/nonexistent/plates.txt'\n"))]) == 2
    assert "known.file" in capsys.readouterr().err
    pw = write(
        tmp_path,
        "[mqtt]\nenabled = true\nhost = 'b.lan'\nusername = 'u'\npassword_file = '/nonexistent/pw'\n",
    )
    assert main(["check-config", str(pw)]) == 2
    assert "mqtt.password_file" in capsys.readouterr().err
    clear = write(tmp_path, "[mqtt]\nenabled = true\nhost = 'b.lan'\nusername = 'u'\n")
    assert main(["check-config", str(clear)]) == 0
    assert "warning: mqtt.username is set with tls = false" in capsys.readouterr().err
