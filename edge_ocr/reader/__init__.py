"""The device's read path, and only it: a frame or a plate crop in, PlateReads out (`Reader` in pipeline.py).

Stages, in the order a frame walks them: detect/ (plate proposals) -> view.py (rectified crops and
the wider views gap filling reads in) -> line.py (read one line: segment/ for contours, gap filling
and the ink test; classify.py for the character CNN; choose.py for which hypothesis counts;
assemble.py for region formats and N-best plates) -> rank.py (which reads are plates) -> pipeline.py.
May import: edge_ocr.types, errors, paths, preprocess, models, imageio, backends. Never daemon, text,
bench, synth or a CLI, and never TensorFlow (tests/test_layout.py holds this).
"""
