#!/usr/bin/env bash
# Install edge-ocr as a systemd service on Raspberry Pi OS (Bookworm, 64-bit).
#   sudo scripts/install-pi.sh            # from a checkout of the repository
# What it does:
#   1. apt: python3-picamera2 (libcamera bindings; not on PyPI), python3-venv, mosquitto-clients
#   2. a venv in /opt/edge-ocr/.venv made with --system-site-packages so it sees apt's picamera2;
#      numpy<2 because apt's simplejpeg/picamera2 are built against numpy 1.x, and therefore
#      opencv-python-headless 4.11.0.86 (the last release that allows numpy 1.x)
#   3. the unit (systemd/edge-ocr.service) and, if absent, the example config in /etc/edge-ocr/
#   4. the MQTT password as a root-only file that systemd hands over with LoadCredential=
# Afterwards: edit /etc/edge-ocr/edge-ocr.toml, then
#   edge-ocr check-config /etc/edge-ocr/edge-ocr.toml && systemctl enable --now edge-ocr
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "install-pi: run as root (sudo)" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/edge-ocr

[ "$(uname -m)" = "aarch64" ] || echo "install-pi: warning: not a 64-bit OS; ai-edge-litert and onnxruntime ship no 32-bit Pi wheels" >&2

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-picamera2 python3-venv python3-pip mosquitto-clients

mkdir -p "$prefix"
rsync -a --delete --exclude .git --exclude .venv --exclude runs "$src"/ "$prefix"/src/ 2>/dev/null \
    || { rm -rf "$prefix/src"; cp -a "$src" "$prefix/src"; rm -rf "$prefix/src/.git" "$prefix/src/.venv"; }
[ -x "$prefix/.venv/bin/python" ] || python3 -m venv --system-site-packages "$prefix/.venv"
"$prefix/.venv/bin/pip" install -q --upgrade pip
"$prefix/.venv/bin/pip" install -q "numpy<2" "opencv-python-headless==4.11.0.86" "$prefix/src[device]"
"$prefix/.venv/bin/python" -c "import picamera2" || echo "install-pi: warning: picamera2 not importable from the venv" >&2
chmod -R a+rX "$prefix"

install -d -m 0755 /etc/edge-ocr
[ -f /etc/edge-ocr/edge-ocr.toml ] || install -m 0644 "$src/systemd/edge-ocr.toml" /etc/edge-ocr/edge-ocr.toml
if [ ! -f /etc/edge-ocr/mqtt_password ]; then
    install -m 0600 /dev/null /etc/edge-ocr/mqtt_password
    echo "install-pi: put the MQTT password into /etc/edge-ocr/mqtt_password (root-only, read via LoadCredential=)" >&2
fi
install -m 0644 "$src/systemd/edge-ocr.service" /etc/systemd/system/edge-ocr.service
systemctl daemon-reload
"$prefix/.venv/bin/edge-ocr" check-config /etc/edge-ocr/edge-ocr.toml
echo "install-pi: done. systemctl enable --now edge-ocr; journalctl -u edge-ocr -f" >&2
