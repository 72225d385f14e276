"""Daemon configuration: a TOML file loaded into frozen dataclasses, strictly.

A service runs unattended for months, so a typo in its config must stop it at start-up with the key
named, not silently fall back to a default. Every table and key is checked against the dataclass
fields; types and ranges are checked per field (metadata `min`, `max`, `choices`).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_ocr.errors import ConfigError


def _f(default: Any, **meta: Any) -> Any:
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class SourceConfig:
    kind: str = _f("opencv", choices=("opencv", "picamera2", "folder"))
    uri: str = "0"  # V4L2 index or device path, rtsp:// or http:// URL, video file, or image folder
    camera: str = "cam0"  # camera name used in topics and events
    width: int = _f(1280, min=16, max=8192)
    height: int = _f(720, min=16, max=8192)
    fps: float = _f(10.0, min=0.1, max=240.0)
    lores_width: int = _f(640, min=16, max=4096)  # picamera2 low-resolution stream
    lores_height: int = _f(360, min=16, max=4096)
    lores: bool = False  # opencv: also a lores_width x lores_height copy to detect on (picamera2: always)
    playback_rate: float = _f(0.0, min=0.0, max=100.0)  # files: 1.0 = real time; 0 = no drops, no wait
    # opencv files and streams: FFmpeg decoder threads, each holding frames (0: one per core)
    decode_threads: int = _f(1, min=0, max=64)
    exit_at_end: bool = True  # files/folders: stop the daemon when the input is exhausted
    retry_min_s: float = _f(0.5, min=0.0, max=3600.0)
    retry_max_s: float = _f(30.0, min=0.0, max=3600.0)


@dataclass(frozen=True)
class ReaderConfig:
    model_dir: str = ""  # empty: the shipped models/plate-chars
    backend: str = _f("tflite", choices=("tflite", "onnx"))
    format: str = _f("int8", choices=("int8", "float"))
    region: str = "auto"
    threads: int = _f(1, min=1, max=64)
    # auto: the learned detector (cnn) when models/plate-detector is installed, else lines
    detector: str = _f("auto", choices=("auto", "cnn", "lines"))
    min_confidence: float = _f(0.5, min=0.0, max=1.0)  # reads the tracker votes with
    min_length: int = _f(4, min=1, max=20)  # shorter reads (bolts, partly visible plates) are ignored
    require_pattern: bool = False  # keep only reads that match a region pattern


@dataclass(frozen=True)
class TrackerConfig:
    min_frames: int = _f(3, min=1, max=1000)  # frames that must agree before `new`
    iou_threshold: float = _f(0.05, min=0.0, max=1.0)
    max_distance_px: float = _f(250.0, min=0.0)  # centre distance that still associates a moving plate
    max_edit_distance: int = _f(2, min=0, max=10)
    end_after_s: float = _f(1.5, min=0.0)  # unseen this long: `end`
    cooldown_s: float = _f(60.0, min=0.0)  # same plate again within this: no new `new`
    update_min_gain: float = _f(0.05, min=0.0, max=1.0)
    nested_inside: float = _f(0.6, min=0.0, max=1.0)  # drop reads this much inside another (0: keep all)
    require_motion: bool = True  # a plate must move at least once (text on static scenery never does)
    follow: bool = True  # a settled track's plate is detected and followed, not read again
    follow_after: int = _f(1, min=0, max=1000)  # reads agreeing with `new` before a track is settled
    follow_iou: float = _f(0.3, min=0.0, max=1.0)  # a region overlapping a settled track this much is it
    edge_px: int = _f(2, min=-1, max=1000)  # a region this near the frame border is cut: not read (-1: read)
    recheck_s: float = _f(1.0, min=0.0)  # a still region read without a plate is read again after this


@dataclass(frozen=True)
class MotionConfig:
    enabled: bool = False
    width: int = _f(160, min=16, max=1920)  # frames are compared at this width
    pixel_delta: int = _f(25, min=1, max=255)
    min_changed: float = _f(0.002, min=0.0, max=1.0)  # fraction of pixels that must change


@dataclass(frozen=True)
class LogConfig:
    enabled: bool = True
    path: str = "-"  # '-' is stdout
    kinds: tuple[str, ...] = _f(("new", "update", "end"), choices=("new", "update", "end"))
    stats: bool = False  # also write periodic stats lines


@dataclass(frozen=True)
class MqttConfig:
    enabled: bool = False
    host: str = "localhost"
    port: int = _f(1883, min=1, max=65535)
    client_id: str = ""  # empty: edge-ocr-<camera>
    topic_prefix: str = "edge_ocr"
    username: str = ""
    password: str = ""  # prefer password_file or the systemd credential
    password_file: str = ""
    credential: str = "mqtt_password"  # file name under $CREDENTIALS_DIRECTORY
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    tls_insecure: bool = False
    keepalive: int = _f(30, min=5, max=3600)
    kinds: tuple[str, ...] = _f(("new", "update", "end"), choices=("new", "update", "end"))
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    inflight: int = _f(20, min=1, max=1000)
    drain_timeout_s: float = _f(5.0, min=0.0, max=600.0)
    reconnect_max_s: float = _f(10.0, min=1.0, max=600.0)


@dataclass(frozen=True)
class SpoolConfig:
    path: str = "spool.sqlite3"  # relative paths are under $STATE_DIRECTORY when set
    max_events: int = _f(100000, min=1)
    memory_events: int = _f(1000, min=1, max=1000000)  # held in memory while the spool cannot be written


@dataclass(frozen=True)
class CropsConfig:
    enabled: bool = False
    dir: str = "crops"  # relative paths are under $STATE_DIRECTORY when set
    quota_mb: float = _f(100.0, min=0.0)
    kinds: tuple[str, ...] = _f(("new", "update"), choices=("new", "update", "end"))


@dataclass(frozen=True)
class KnownConfig:
    plates: tuple[str, ...] = ()
    file: str = ""  # one plate per line, '#' comments
    max_edit_distance: int = _f(1, min=0, max=5)


@dataclass(frozen=True)
class DaemonConfig:
    stats_interval_s: float = _f(30.0, min=0.5)
    status_interval_s: float = _f(5.0, min=0.5)
    # malloc_trim: the heap pages freed since the last one go back to the system (memory.py)
    trim_interval_s: float = _f(1.0, min=0.1)
    gc_interval_s: float = _f(60.0, min=0.0)  # full collection: empties the free lists (memory.collect); 0: off
    idle_timeout_s: float = _f(0.5, min=0.01, max=60.0)  # how long the loop waits for a frame
    # A camera call blocked this long (a wedged driver) stops the watchdog pings so systemd
    # restarts the service; 0 disables. A camera that is merely gone is retried, never this.
    capture_stall_s: float = _f(0.0, min=0.0)
    # The unit's TimeoutStopSec: shutdown (flush, stats, spool drain) must end before systemd kills it.
    stop_timeout_s: float = _f(30.0, min=1.0, max=3600.0)
    trace: str = ""  # CSV, one line per frame (what was done, wall and CPU ms): sizing and `bench daemon`


@dataclass(frozen=True)
class Config:
    source: SourceConfig = field(default_factory=SourceConfig)
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    log: LogConfig = field(default_factory=LogConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    spool: SpoolConfig = field(default_factory=SpoolConfig)
    crops: CropsConfig = field(default_factory=CropsConfig)
    known: KnownConfig = field(default_factory=KnownConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML file; ConfigError names the file and the key at fault."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config: {e.strerror or e}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from e
    return config_from_dict(data, str(p))


def config_from_dict(data: dict[str, Any], origin: str = "<config>") -> Config:
    cfg = _build(Config, data, "", origin)
    _check_cross(cfg, origin)
    return cfg


def _build(cls: type, table: Any, prefix: str, origin: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: '{prefix.rstrip('.')}' must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigError(f"{origin}: unknown key '{prefix}{unknown[0]}'")
    values: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, key + ".", origin)  # type: ignore[arg-type]
        else:
            values[name] = _convert(value, hint, fields[name].metadata, key, origin)
    return cls(**values)


def _convert(value: Any, hint: Any, meta: Any, key: str, origin: str) -> Any:
    def bad(what: str) -> ConfigError:
        return ConfigError(f"{origin}: key '{key}' {what} (got {value!r})")

    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("must be a list of strings")
        for v in value:
            if "choices" in meta and v not in meta["choices"]:
                raise bad(f"may only contain {', '.join(meta['choices'])}")
        return tuple(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise bad("must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("must be an integer")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("must be a number")
        value = float(value)
        if not math.isfinite(value):  # TOML allows nan and inf; no key here means them
            raise bad("must be a finite number")
    elif hint is str and not isinstance(value, str):
        raise bad("must be a string")
    if "choices" in meta and value not in meta["choices"]:
        raise bad(f"must be one of {', '.join(meta['choices'])}")
    if "min" in meta and value < meta["min"]:
        raise bad(f"must be >= {meta['min']}")
    if "max" in meta and value > meta["max"]:
        raise bad(f"must be <= {meta['max']}")
    return value


SHUTDOWN_MARGIN_S = 5.0  # flushing the tracker, the last stats, closing: time the drain must leave


def _check_cross(cfg: Config, origin: str) -> None:
    """Checks that involve more than one key."""
    if cfg.source.retry_max_s < cfg.source.retry_min_s:
        raise ConfigError(f"{origin}: key 'source.retry_max_s' must be >= source.retry_min_s")
    if not cfg.source.camera or any(c in cfg.source.camera for c in "/#+ "):
        raise ConfigError(f"{origin}: key 'source.camera' must be non-empty without '/', '#', '+', spaces")
    if cfg.mqtt.enabled and not cfg.mqtt.host:
        raise ConfigError(f"{origin}: key 'mqtt.host' must be set when mqtt.enabled")
    if (cfg.mqtt.cert_file == "") != (cfg.mqtt.key_file == ""):
        raise ConfigError(f"{origin}: keys 'mqtt.cert_file' and 'mqtt.key_file' go together")
    if not cfg.log.enabled and not cfg.mqtt.enabled:
        raise ConfigError(f"{origin}: key 'log.enabled' or 'mqtt.enabled': at least one sink is needed")
    stop, drain = cfg.daemon.stop_timeout_s, cfg.mqtt.drain_timeout_s
    if cfg.mqtt.enabled and drain + SHUTDOWN_MARGIN_S > stop:
        raise ConfigError(
            f"{origin}: key 'mqtt.drain_timeout_s' ({drain:g} s) must leave {SHUTDOWN_MARGIN_S:g} s of "
            f"daemon.stop_timeout_s ({stop:g} s, the unit's TimeoutStopSec) for the rest of the shutdown"
        )


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def check_environment(cfg: Config) -> list[str]:
    """What `check-config` and `run` both check beyond the file itself: the files it names exist
    (ConfigError otherwise); returns warnings (a password sent without TLS)."""
    named = {
        "reader.model_dir": cfg.reader.model_dir,
        "known.file": cfg.known.file,
        "mqtt.password_file": cfg.mqtt.password_file if cfg.mqtt.enabled else "",
        "mqtt.ca_file": cfg.mqtt.ca_file if cfg.mqtt.enabled else "",
        "mqtt.cert_file": cfg.mqtt.cert_file if cfg.mqtt.enabled else "",
        "mqtt.key_file": cfg.mqtt.key_file if cfg.mqtt.enabled else "",
    }
    for key, value in named.items():
        if value and not Path(value).exists():
            raise ConfigError(f"key '{key}': {value} does not exist")
    m = cfg.mqtt
    if m.enabled and m.username and not m.tls and m.host not in LOOPBACK:
        return [
            f"mqtt.username is set with tls = false: the password crosses the network to {m.host} in clear"
        ]
    return []


def state_path(path: str, environ: dict[str, str] | None = None) -> Path:
    """Relative state paths live in systemd's StateDirectory when the service has one."""
    import os

    env = os.environ if environ is None else environ
    p = Path(path)
    if p.is_absolute():
        return p
    state = env.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state) / p if state else p
