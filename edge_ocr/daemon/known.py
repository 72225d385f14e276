"""The `[known]` watch list: plates matched with a small edit distance."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from edge_ocr.errors import ConfigError
from edge_ocr.types import edit_distance

if TYPE_CHECKING:
    from edge_ocr.daemon.config import Config


class KnownPlates:
    """A watch list matched with a small edit distance, because OCR confuses 0/O, 8/B, ..."""

    def __init__(self, plates: Iterable[str], max_edit_distance: int = 1) -> None:
        self.plates = sorted({_norm(p) for p in plates if _norm(p)})
        self.max_edit_distance = max_edit_distance

    def match(self, plate: str) -> str | None:
        best: tuple[int, str] | None = None
        for known in self.plates:
            d = edit_distance(_norm(plate), known)
            if d <= self.max_edit_distance and (best is None or d < best[0]):
                best = (d, known)
        return best[1] if best else None


def _norm(plate: str) -> str:
    return "".join(ch for ch in plate.upper() if ch.isalnum())


def known_from_config(cfg: Config) -> KnownPlates | None:
    """The watch list of `[known]` (plates and file), None when it is empty."""
    plates = list(cfg.known.plates)
    if cfg.known.file:
        try:
            text = Path(cfg.known.file).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"key 'known.file': cannot read {cfg.known.file}: {e.strerror or e}") from e
        plates += [ln.split("#")[0].strip() for ln in text.splitlines()]
    plates = [p for p in plates if p]
    return KnownPlates(plates, cfg.known.max_edit_distance) if plates else None
