"""The learned plate detector (models/plate-detector): scenes + synthetic composites -> a tiny
CenterNet-style int8 network (heatmap + centre offset + box size, stride 4, letterboxed input).

`python -m convert.detector all --data DIR --out models/plate-detector` trains, exports (through the
shared quantize.py), evaluates on held-out photos and writes the card. May import edge_ocr (synth for
composites, the device decoder in edge_ocr.reader.detect.cnn for evaluation) and convert's shared code.
"""
