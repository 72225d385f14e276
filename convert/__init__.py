"""Workstation tool (TensorFlow): data -> train -> int8 TFLite + ONNX QDQ -> parity -> model card.

One sub-package per model family: plate_chars/ (the plate character classifier, `python -m convert
all`), chars62/ (text mode's 62 classes, `python -m convert.chars62.run`); shared by all of them:
quantize.py (export), verify.py (float-vs-int8 parity), card.py (card.json + MODEL_CARD.md). May
import edge_ocr (the device package) for data loading, preprocessing and rendering; edge_ocr never
imports convert.
"""
