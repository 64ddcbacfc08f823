"""The archive lock: one run at a time per archive directory.

An advisory `flock` on `archive/lock`, holding the owner's PID. The kernel
drops the lock when its process dies, so a lock left by a killed run is taken
over by the next one without any stale-file heuristics.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from portal_crawler.core.errors import ArchiveBusy
from portal_crawler.core.paths import ArchivePaths


class LockHeld(ArchiveBusy):
    """Another live process holds the archive."""

    def __init__(self, path: Path, pid: str) -> None:
        super().__init__(f"another run holds {path} (pid {pid or 'unknown'}); try again when it ends")
        self.pid = pid


class ArchiveLock:
    def __init__(self, archive_dir: Path) -> None:
        self.path = ArchivePaths(archive_dir).lock
        self._fd: int | None = None

    def acquire(self) -> ArchiveLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise LockHeld(self.path, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    @property
    def fd(self) -> int:
        """The locked file descriptor: a child process given it holds the lock too."""
        if self._fd is None:
            raise RuntimeError("the lock is not held")
        return self._fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
