"""`--set NAME=VALUE` on the command line (`read`, `bench crops|e2e`): one field of the reader's stage
parameters, by the name `Reader(**overrides)` takes, e.g. `--set rescue=0 --set second_cut=always` reads as
sessions 18-19 did. Values are converted by the field's declared type; a name no stage has, or a value that is
not of its type, is a ConfigError naming the option."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from edge_ocr.errors import ConfigError
from edge_ocr.reader.fusion import FusionParams
from edge_ocr.reader.line import FillParams, LineParams
from edge_ocr.reader.pipeline import FrameParams
from edge_ocr.reader.rank import RankParams

STAGES = (FrameParams, LineParams, FillParams, RankParams, FusionParams)
NOT_SET = {"reader": "--reader"}  # fields with an option of their own
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def field_types() -> dict[str, str]:
    """Every settable field name -> its declared type (a name shared by stages has one type)."""
    out: dict[str, str] = {}
    for cls in STAGES:
        for f in fields(cls):
            if f.name not in NOT_SET:
                out.setdefault(f.name, str(f.type))
    return out


def parse_sets(items: Iterable[str]) -> dict[str, Any]:
    """`NAME=VALUE` strings -> Reader keyword overrides."""
    types = field_types()
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ConfigError(f"--set {item!r}: expected NAME=VALUE")
        if name in NOT_SET:
            raise ConfigError(f"--set {name}: use {NOT_SET[name]}")
        if name not in types:
            raise ConfigError(f"--set {name}: not a reader parameter; known: {', '.join(sorted(types))}")
        out[name] = _convert(name, value.strip(), types[name])
    return out


def _convert(name: str, value: str, typ: str) -> Any:
    v = value.lower()
    kinds = [t.strip() for t in typ.split("|")]
    if "None" in kinds and v in ("none", ""):
        return None
    try:
        if "bool" in kinds:
            if v in TRUE or v in FALSE:
                return v in TRUE
            raise ValueError(value)
        if "int" in kinds:
            return int(value)
        if "float" in kinds:
            return float(value)
    except ValueError:
        raise ConfigError(f"--set {name}={value!r}: expected {typ}") from None
    return value
