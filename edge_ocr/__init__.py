"""edge_ocr: read licence plates and characters on small devices with int8 CNNs.

    >>> from edge_ocr import read_image
    >>> for plate in read_image("car.jpg"):
    ...     print(plate.plate, plate.confidence)

Heavier modules (runtimes, OpenCV) load on first use, so `import edge_ocr` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_ocr.types import Box, CharPrediction, PlateCandidate, PlateRead

if TYPE_CHECKING:
    from edge_ocr.reader.pipeline import Reader

__version__ = "0.1.0"

_default_reader: Any = None


def __getattr__(name: str) -> Any:
    if name == "Reader":
        from edge_ocr.reader.pipeline import Reader

        return Reader
    raise AttributeError(f"module 'edge_ocr' has no attribute {name!r}")


def read_image(path: str | Path, crop: bool = False, **reader_options: Any) -> list[PlateRead]:
    """Read the plates in one image file with the shipped model (or `model_dir=`, `region=`, ...).

    With `crop=True` the image is taken to be a plate crop. The Reader is built once and reused
    while the options stay the same.
    """
    from edge_ocr.imageio import load_image
    from edge_ocr.reader.pipeline import Reader

    global _default_reader
    key = tuple(sorted(reader_options.items()))
    if _default_reader is None or _default_reader[0] != key:
        _default_reader = (key, Reader(**reader_options))
    reader = _default_reader[1]
    image = load_image(path)
    if crop:
        read = reader.read_crop(image)
        return [read] if read is not None else []
    return list(reader.read_frame(image))


__all__ = ["Box", "CharPrediction", "PlateCandidate", "PlateRead", "Reader", "__version__", "read_image"]
