"""`edge-ocr bench`: accuracy and speed of the reader per model format and backend, with plots.

chars (classifier alone), crops (plate crops: segment, classify, assemble) and e2e (full photos).
"""
