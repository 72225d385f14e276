"""Synthetic plates, characters and scenes (numpy + OpenCV + Pillow; no TensorFlow).

Used to supplement character training, to test segmentation against exact boxes, and to give a
fresh machine sample photos to read. Every function takes its randomness as a numpy Generator.
May import edge_ocr.types and errors only; the reader never imports synth.
"""

from edge_ocr.synth.char import render_char
from edge_ocr.synth.fonts import committed_fonts, system_fonts, training_fonts
from edge_ocr.synth.plate import RenderedPlate, render_plate
from edge_ocr.synth.samples import SampleSet, write_samples
from edge_ocr.synth.scene import RenderedScene, ScenePlate, random_scene, render_scene, road_background
from edge_ocr.synth.styles import STYLES, plate_chars, random_plate_text

__all__ = [
    "STYLES",
    "RenderedPlate",
    "RenderedScene",
    "SampleSet",
    "ScenePlate",
    "committed_fonts",
    "plate_chars",
    "random_plate_text",
    "random_scene",
    "render_char",
    "render_plate",
    "render_scene",
    "road_background",
    "system_fonts",
    "training_fonts",
    "write_samples",
]
