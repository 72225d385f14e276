"""The package layout is the architecture: these tests hold its import rules and size limits.

Rules (docs/ARCHITECTURE.md): the reader imports no daemon, text, bench or synth module, nor a CLI,
nor TensorFlow; the daemon imports no text, bench or synth module; no module imports a CLI except the
top CLI (which dispatches to daemon/cli.py and text/cli.py); edge_ocr never imports convert.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "edge_ocr"

FORBIDDEN = {
    "edge_ocr.reader": ("edge_ocr.daemon", "edge_ocr.text", "edge_ocr.bench", "edge_ocr.synth", "convert"),
    "edge_ocr.daemon": ("edge_ocr.text", "edge_ocr.bench", "edge_ocr.synth", "convert"),
    "edge_ocr.text": ("edge_ocr.daemon", "edge_ocr.bench", "convert"),
    "edge_ocr.backends": ("edge_ocr.reader", "edge_ocr.daemon", "edge_ocr.text", "edge_ocr.bench"),
    "edge_ocr.synth": ("edge_ocr.reader", "edge_ocr.daemon", "edge_ocr.text", "edge_ocr.bench", "convert"),
    "edge_ocr": ("convert",),
}
CLIS = ("edge_ocr.cli", "edge_ocr.daemon.cli", "edge_ocr.text.cli", "edge_ocr.bench.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _violations(files: list[Path]) -> list[str]:
    out = []
    for f in files:
        mod = _module_name(f)
        rules = [bad for owner, bad in FORBIDDEN.items() if _within(mod, owner)]
        for imp in _imports(f):
            for bad in (b for r in rules for b in r):
                if _within(imp, bad) and not _within(mod, bad):
                    out.append(f"{mod} imports {imp}")
            top = mod in ("edge_ocr.cli", "edge_ocr.__main__") or mod.endswith(".__main__")
            if any(_within(imp, c) for c in CLIS) and not top:
                out.append(f"{mod} imports the CLI {imp}")
    return out


def test_no_module_breaks_the_import_rules() -> None:
    assert _violations(sorted(PKG.rglob("*.py"))) == []


def test_the_rule_checker_sees_a_lazy_forbidden_import(tmp_path: Path) -> None:
    bad = PKG / "reader" / "_probe_layout_tmp.py"
    bad.write_text("def f():\n    from edge_ocr.daemon.track import PlateTracker\n    return PlateTracker\n")
    try:
        found = _violations([bad])
    finally:
        bad.unlink()
    assert "edge_ocr.reader._probe_layout_tmp imports edge_ocr.daemon.track" in found


PROBE = """
import importlib, json, pkgutil, sys
import edge_ocr.reader
for m in pkgutil.walk_packages(edge_ocr.reader.__path__, "edge_ocr.reader."):
    importlib.import_module(m.name)
from edge_ocr.reader.pipeline import Reader
reader = Reader(region="us")
import numpy as np
reader.read_frame(np.full((120, 200, 3), 127, np.uint8))
print(json.dumps(sorted(sys.modules)))
"""


def test_reading_in_a_fresh_interpreter_loads_no_daemon_text_bench_synth_or_tensorflow() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "edge_ocr.reader.pipeline" in loaded and "edge_ocr.reader.line" in loaded
    bad = [m for m in loaded if any(_within(m, b) for b in FORBIDDEN["edge_ocr.reader"])]
    bad += [m for m in loaded if _within(m, "tensorflow") or m in CLIS]
    assert bad == []


def test_modules_are_small_and_the_top_folder_holds_only_the_basics() -> None:
    big = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in PKG.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 300
    ]
    big += [
        f"{p.relative_to(ROOT)}: {n}"
        for p in (ROOT / "convert").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 300
    ]
    assert big == []
    assert len(list(PKG.glob("*.py"))) <= 10


@pytest.mark.parametrize(
    "init",
    sorted(
        str(p.relative_to(ROOT))
        for p in [*PKG.rglob("__init__.py"), *(ROOT / "convert").rglob("__init__.py")]
    ),
)
def test_every_folder_says_what_it_is_and_what_it_may_import(init: str) -> None:
    doc = ast.get_docstring(ast.parse((ROOT / init).read_text())) or ""
    assert len(doc.split()) >= 25, f"{init}: docstring too short"
    if init not in ("edge_ocr/__init__.py", "convert/chars62/__init__.py", "convert/plate_chars/__init__.py"):
        assert "import" in doc, f"{init}: does not say what it may import"
