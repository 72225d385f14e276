"""Text mode (`edge-ocr read --mode text`): lines of printed or handwritten characters on a plain page.

reader.py reads (contours + the 62-class model through the reader's classifier), layout.py groups
characters into lines and words, render.py draws test pages, cli.py is the per-file reader the top
CLI calls. May import the reader and the shared basics; never the daemon or bench.
"""
