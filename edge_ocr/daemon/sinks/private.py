"""Files and folders the daemon writes are private (0600 / 0700) whatever the process umask.

Plate reads are personal data. systemd's UMask=0077 covers the service, but the daemon is also run
by hand (umask 0022 would make the spool, event log and crops world-readable), so the modes are set
here explicitly. Folders and files that already exist keep their mode: an administrator may have
chosen a group for log readers on purpose.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dirs(folder: Path) -> None:
    """mkdir -p; every folder created here is 0700 (the umask could only loosen mkdir's mode)."""
    missing: list[Path] = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        os.chmod(d, DIR_MODE)


def create_private(path: Path) -> None:
    """Create an empty 0600 file if none exists (then sqlite and open("a") keep that mode)."""
    private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write a new file 0600 (crops: names are unique, an existing file is replaced)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
