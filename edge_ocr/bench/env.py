"""What a benchmark ran on: machine, CPU, runtimes, memory, so that figures can be compared honestly."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from edge_ocr.paths import REPO_ROOT

RUNTIME_PACKAGES = (
    "numpy",
    "opencv-python-headless",
    "ai-edge-litert",
    "tflite-runtime",
    "onnxruntime",
    "pillow",
)


def cpuinfo(path: Path = Path("/proc/cpuinfo")) -> list[tuple[str, str]]:
    """(key, value) of every line of /proc/cpuinfo (Linux); [] where it cannot be read."""
    try:
        text = path.read_text()
    except OSError:
        return []
    return [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in text.splitlines())]


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what platform knows."""
    for key, value in cpuinfo():
        if key in ("model name", "Model", "Hardware") and value:
            return value
    return platform.processor() or platform.machine()


#: instruction sets that decide int8 speed: x86 without a VNNI dot product (AVX2 alone) ran the int8 models
#: here 1.3-4x slower than with it, and slower than float (session 19); ARM's asimddp/i8mm are its dot products.
INT8_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")


def cpu_flags(path: Path = Path("/proc/cpuinfo")) -> str:
    """The INT8_FLAGS this CPU has, plus x86 family/model ('' where /proc/cpuinfo is missing)."""
    lines = cpuinfo(path)
    if not lines:
        return ""
    fields: dict[str, str] = {}
    for key, value in lines:
        fields.setdefault(key, value)
    have = set((fields.get("flags") or fields.get("Features") or "").split())
    out = [f for f in INT8_FLAGS if f in have]
    if "cpu family" in fields:
        out.insert(0, f"family {fields['cpu family']} model {fields.get('model', '?')}")
    return ", ".join(out) or "none of " + "/".join(INT8_FLAGS)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in RUNTIME_PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def machine_info() -> dict[str, Any]:
    return {
        "hostname": platform.node(),
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpu_count": os.cpu_count(),
        "versions": versions(),
        # Other processes skew timings: the load average at the start says how quiet the machine was.
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python_executable": sys.executable,
    }


def code_version(root: Path = REPO_ROOT) -> dict[str, Any]:
    """The commit the reader code came from, and whether the package or models differ from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "edge_ocr", "models"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": os.environ.get("EDGE_OCR_COMMIT"), "modified": None}
    return {"commit": head, "modified": bool(status.strip())}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
