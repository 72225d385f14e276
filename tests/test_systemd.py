"""The unit must verify cleanly (systemd-analyze exits 0 even for unknown keys, so stderr is checked)
and keep a low exposure score while still reaching the camera devices."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "systemd" / "edge-ocr.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")


def _unit_with_existing_exec(tmp_path: Path) -> Path:
    # verify checks that ExecStart exists; the venv path only exists on an installed device.
    text = UNIT.read_text()
    assert "ExecStart=/opt/edge-ocr/.venv/bin/edge-ocr run --config /etc/edge-ocr/edge-ocr.toml" in text
    out = tmp_path / "edge-ocr.service"
    out.write_text(text.replace("ExecStart=/opt/edge-ocr/.venv/bin/edge-ocr", "ExecStart=/bin/true"))
    return out


@needs_analyze
def test_verify_prints_nothing(tmp_path: Path) -> None:
    r = subprocess.run(
        [ANALYZE, "verify", str(_unit_with_existing_exec(tmp_path))], capture_output=True, text=True
    )
    assert r.returncode == 0
    assert r.stderr.strip() == "", r.stderr


@needs_analyze
def test_verify_would_catch_an_unknown_key(tmp_path: Path) -> None:
    unit = _unit_with_existing_exec(tmp_path)
    unit.write_text(unit.read_text().replace("[Service]\n", "[Service]\nWatchdogSecs=5\n"))
    r = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True)
    assert "WatchdogSecs" in r.stderr


@needs_analyze
def test_security_exposure_low(tmp_path: Path) -> None:
    r = subprocess.run(
        [ANALYZE, "security", "--offline=yes", str(_unit_with_existing_exec(tmp_path))],
        capture_output=True,
        text=True,
    )
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    exposure = float(m.group(1))
    print(f"systemd-analyze security exposure: {exposure}")
    assert exposure <= 2.0


def test_unit_essentials() -> None:
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "DynamicUser=yes",
        "StateDirectory=edge-ocr",
        "LoadCredential=mqtt_password:",
        "SupplementaryGroups=video",
        "DeviceAllow=char-video4linux rw",
        "DeviceAllow=char-media rw",
        "DeviceAllow=char-dma_heap rw",
        "DevicePolicy=closed",
    ):
        assert line in text, line
    assert re.search(r"^WatchdogSec=\d+", text, re.M)
    assert "PrivateDevices=yes" not in text  # would hide /dev/video*
