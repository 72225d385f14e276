"""SIGTERM/SIGINT/SIGHUP as two flags, installed before anything slow.

`edge-ocr run` spends a second or more importing OpenCV and loading the model; systemd may stop the
service in that time (a quick restart, a shutdown). With the handlers in place first, such a SIGTERM
only sets the stop flag, and the runner ends cleanly as soon as it starts (exit 0, not -15).
Imports nothing heavy on purpose.
"""

from __future__ import annotations

import signal
import threading


class StopSignals:
    def __init__(self) -> None:
        self.stop = threading.Event()  # SIGTERM, SIGINT: end the loop, flush, drain
        self.reopen = threading.Event()  # SIGHUP: reopen log files (logrotate)

    def install(self) -> StopSignals:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reopen.set())
        return self
