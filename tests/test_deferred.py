"""Deferred imports (edge_ocr/daemon/deferred.py): a placeholder until first use, the real module after.

Each case runs in a fresh interpreter: sys.modules of the test process already holds most modules.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=True
    )
    return out.stdout.split()


def test_placeholder_until_an_attribute_is_read() -> None:
    got = _run(
        """
        import sys
        from edge_ocr.daemon.deferred import defer, is_loaded
        print(defer("urllib.request", "no_such_module_here"))
        import urllib.request
        print(is_loaded("urllib.request"), "http.client" in sys.modules)
        print(callable(urllib.request.getproxies))  # first attribute: the real import
        print(is_loaded("urllib.request"), "http.client" in sys.modules)
        print(sys.modules["urllib.request"].urlopen is urllib.request.urlopen)
        """
    )
    assert got == ["['urllib.request']", "False", "False", "True", "True", "True", "True"]


def test_from_import_and_already_imported() -> None:
    got = _run(
        """
        import json
        from edge_ocr.daemon.deferred import defer, is_loaded
        print(defer("json", "urllib.request"))  # json is imported already: left alone
        from urllib.request import getproxies
        print(is_loaded("urllib.request"), callable(getproxies))
        """
    )
    assert got == ["['urllib.request']", "True", "True"]


def test_first_use_from_many_threads_loads_once() -> None:
    got = _run(
        """
        import threading
        from edge_ocr.daemon.deferred import defer
        defer("urllib.request")
        import urllib.request
        seen, errors = [], []
        def use():
            try:
                seen.append(urllib.request.getproxies)
            except Exception as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=use) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print(len(seen), len(set(map(id, seen))), errors)
        """
    )
    assert got == ["8", "1", "[]"]


def test_mqtt_sink_import_leaves_http_client_unloaded() -> None:
    pytest.importorskip("paho.mqtt.client")
    got = _run(
        """
        import sys
        import edge_ocr.daemon.sinks.mqtt
        print("paho.mqtt.client" in sys.modules, "http.client" in sys.modules, "email.parser" in sys.modules)
        """
    )
    assert got == ["True", "False", "False"]
