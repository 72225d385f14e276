import sys

from edge_ocr.bench.cli import main

sys.exit(main())
