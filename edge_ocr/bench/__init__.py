"""Everything that exists only to measure (`edge-ocr bench`): accuracy and speed per model format and backend.

chars (classifier alone), crops (plate crops: segment, classify, assemble) and e2e (full photos);
datasets.py and plate_sets.py load the shared data, metrics.py scores reads, detect_eval.py scores
detectors, report/plots/summary write the tables and PNGs. May import the reader, synth and the
shared basics; nothing on the device's read path imports bench.
"""
