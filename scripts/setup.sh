#!/usr/bin/env bash
# Create .venv and install edge_ocr with the extras asked for.
#   scripts/setup.sh device   -> the device package only (what a Pi needs)
#   scripts/setup.sh all      -> device + workstation (TensorFlow) + dev tools + mosquitto for the tests
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-device}

apt_install() {
    # Install Debian packages that are missing; quiet when everything is there already.
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "setup: apt-get install ${missing[*]}" >&2
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

extras="device"
if [ "$want" = "all" ]; then
    extras="device,workstation,dev"
    apt_install mosquitto systemd
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[${extras}]"
