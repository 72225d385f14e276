"""edge_ocr: read licence plates and characters on small devices with int8 CNNs."""

__version__ = "0.1.0"
