"""Where the shared data and the shipped models are, overridable by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root(path: str | os.PathLike[str] | None = None) -> Path:
    """The real datasets: an explicit path, else $EDGE_OCR_DATA, else ../shared/data beside the repo."""
    if path:
        return Path(path)
    env = os.environ.get("EDGE_OCR_DATA")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "data"


def models_root() -> Path:
    env = os.environ.get("EDGE_OCR_MODELS")
    return Path(env) if env else REPO_ROOT / "models"


def default_model_dir(name: str = "plate-chars") -> Path:
    return models_root() / name


def default_detector_dir() -> Path:
    return default_model_dir("plate-detector")
