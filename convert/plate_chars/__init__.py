"""The plate character classifier (models/plate-chars): real tiles + renders, augmentation, training,
and the cleaning of mislabelled vn-char-boxes. Driven by `python -m convert all` (convert/__main__.py);
exported and verified by the shared quantize.py, verify.py and card.py of convert/.
"""
