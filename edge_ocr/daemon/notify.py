"""sd_notify without a dependency: READY, WATCHDOG, STATUS and STOPPING datagrams to $NOTIFY_SOCKET.

systemd restarts a Type=notify service whose watchdog pings stop, so the daemon sends WATCHDOG=1
only from its processing loop; a pipeline that hangs stops the pings and gets restarted.
Without $NOTIFY_SOCKET (run by hand, in tests) every call is a no-op.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping


class Notifier:
    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET", "")
        if addr.startswith("@"):  # abstract namespace socket
            addr = "\0" + addr[1:]
        self._addr = addr
        self._sock: socket.socket | None = None
        self._clock = clock
        self._last_ping = float("-inf")
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watchdog_on = usec.isdigit() and (not pid or pid == str(os.getpid()))
        # Ping at a third of the timeout so one slow frame does not get the service killed.
        self.ping_interval = int(usec) / 3e6 if watchdog_on else 1.0
        self.sent: int = 0

    @property
    def enabled(self) -> bool:
        return bool(self._addr)

    def send(self, message: str) -> bool:
        """Send one datagram; failures are swallowed: notification must never stop the service."""
        if not self._addr:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), self._addr)
        except OSError:
            return False
        self.sent += 1
        return True

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def watchdog(self) -> None:
        """Ping, rate-limited to `ping_interval`; call it whenever the loop made progress."""
        now = self._clock()
        if now - self._last_ping >= self.ping_interval:
            self._last_ping = now
            self.send("WATCHDOG=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
