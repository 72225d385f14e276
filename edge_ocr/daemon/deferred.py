"""Modules the daemon lets a library import without loading them until first used.

paho-mqtt imports `urllib.request` at its top and uses it only to look up proxies from the
environment when PySocks is installed; yet it pulls in http.client, email, tempfile, shutil, bz2 and
lzma: 2.0 MiB of the daemon's resident memory (measured in the device install with numpy, OpenCV
and LiteRT already loaded: paho's import costs 5.2 MiB, 3.2 MiB with it deferred). paho's `ssl`
cannot be deferred this way: its socket reads name `ssl.SSLWantReadError` in an `except` clause,
which loads the module at the first read from the broker.

`defer(name)` puts a placeholder module in sys.modules. `import name` then binds the placeholder;
the first attribute read from it (`urllib.request.getproxies`, `from urllib.request import x`)
imports the real module and copies it into the placeholder, so code that uses it still works, only
later. importlib's LazyLoader is not used: on Python 3.11 an `import` statement reads the lazy
module's `__spec__` and loads it at once.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.RLock()


class Deferred(types.ModuleType):
    """A placeholder for a module not yet imported; loads the real one on its first attribute read."""

    def __getattr__(self, attr: str) -> Any:  # only called for attributes not in __dict__ yet
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # copy, pickle, inspect probing: no reason to load
        return getattr(load(self), attr)


def load(placeholder: types.ModuleType) -> types.ModuleType:
    """Import the real module behind a placeholder (once, whichever thread asks first)."""
    name = placeholder.__name__
    with _lock:
        if sys.modules.get(name) is placeholder:
            del sys.modules[name]
        real = importlib.import_module(name)
        if real is not placeholder:
            placeholder.__dict__.update(real.__dict__)
        return real


def defer(*names: str) -> list[str]:
    """Put placeholders for modules not yet imported; returns the names deferred (those already
    imported, or not installed, are left alone)."""
    done = []
    with _lock:
        for name in names:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue
            mod = Deferred(name)
            mod.__spec__ = spec
            mod.__file__ = spec.origin
            sys.modules[name] = mod
            parent, _, child = name.rpartition(".")
            if parent:  # `import urllib.request` then `urllib.request.x` reads the package attribute
                setattr(sys.modules[parent], child, mod)
            done.append(name)
    return done


def is_loaded(name: str) -> bool:
    """The module is imported for real (not absent, not a placeholder)."""
    mod = sys.modules.get(name)
    return mod is not None and not isinstance(mod, Deferred)
