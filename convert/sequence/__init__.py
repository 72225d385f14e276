"""The CTC sequence line reader (models/plate-seq): real plate crops with text + synthetic plates ->
a small conv network read by CTC over the whole line (a second reader beside the character CNN).

`python -m convert.sequence all --data DIR --out models/plate-seq` builds the data split by plate,
trains, exports int8 TFLite + ONNX QDQ, checks parity and writes the card. May import edge_ocr (synth,
the device decoder edge_ocr.reader.sequence) and convert's shared code.
"""
