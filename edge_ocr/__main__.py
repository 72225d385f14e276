"""`python -m edge_ocr ...` is the same as the `edge-ocr` console script."""

import sys

from edge_ocr.cli import main

sys.exit(main())
