from __future__ import annotations

from pathlib import Path

import pytest

from edge_ocr.paths import data_root, default_model_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets; tests that need them are skipped when they are absent."""
    root = data_root()
    if not (root / "README.md").exists():
        pytest.skip(f"shared data not found at {root}")
    return root


@pytest.fixture(scope="session")
def plate_model_dir() -> Path:
    """The shipped model is committed, so its absence is a failure, not a skip."""
    return default_model_dir("plate-chars")
