"""The pipe to the writer process: frames in order, never blocking the reactor on a full pipe."""

from __future__ import annotations

import fcntl
import os
import select
import threading
from collections import deque
from contextlib import suppress


class FramePipe:
    """Frames to the writer's stdin, in order, without ever blocking the reactor on a full pipe.

    The reactor thread writes straight into the pipe (enlarged to 1 MB) while it has
    room: no thread hand-off and no lock contention per response. When the writer
    falls behind and the pipe fills, the rest waits in a backlog that a thread
    drains as the pipe empties; only a backlog over `limit` bytes makes the
    reactor wait (it bounds the crawl's memory).
    """

    def __init__(self, fd: int, limit: int = 32 << 20) -> None:
        self.fd, self.limit = fd, limit
        os.set_blocking(fd, False)
        with suppress(OSError, AttributeError):  # Linux only; the default 64 KB pipe works too
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        self.backlog: deque[memoryview] = deque()
        self.waiting = 0  # bytes in the backlog
        self.closing = self.broken = False
        self.changed = threading.Condition()
        self.room = select.poll()  # poll, not select: no FD_SETSIZE limit on the descriptor
        self.room.register(fd, select.POLLOUT)
        self.drainer = threading.Thread(target=self._drain, name="archive-pipe", daemon=True)
        self.drainer.start()

    def send(self, data: bytes) -> bool:
        """Queue one frame; False once the writer has gone away."""
        with self.changed:
            if self.broken:
                return False
            if not self.backlog:
                written = self._write(memoryview(data))
                if written == len(data) or self.broken:
                    return not self.broken
                data = data[written:]
            self.backlog.append(memoryview(data))
            self.waiting += len(data)
            self.changed.notify_all()
            while self.waiting > self.limit and not self.broken:
                self.changed.wait()
            return not self.broken

    def _write(self, data: memoryview) -> int:
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError:  # EPIPE: the writer process is gone
            self.broken = True
            return 0

    def _drain(self) -> None:
        while True:
            with self.changed:
                while not self.backlog and not self.closing:
                    self.changed.wait()
                if not self.backlog or self.broken:
                    return
                chunk = self.backlog[0]
            self.room.poll()  # until the writer has read some (or has gone: the write then fails)
            with self.changed:
                written = self._write(chunk)
                self.waiting -= written
                if written == len(chunk):
                    self.backlog.popleft()
                else:
                    self.backlog[0] = chunk[written:]
                self.changed.notify_all()

    def close(self) -> None:
        """Wait until every frame is in the pipe (or the writer is gone)."""
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        self.drainer.join()
