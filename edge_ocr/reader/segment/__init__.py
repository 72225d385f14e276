"""Contour segmentation of one rectified plate crop: from pixels to the final character boxes.

contours.py proposes segmentation hypotheses from several binarizations (lines.py groups blobs into
rows, pieces.py splits and merges pieces); linegrid.py models a read line (height, pitch, slope);
gapfill.py searches the slots where that line says a character is missing; inkcolour.py tells
characters printed in the line's ink from pictures of another colour or a faint ghost. May import
edge_ocr.types, errors and preprocess only (the classifier is passed in as a callable).
"""
