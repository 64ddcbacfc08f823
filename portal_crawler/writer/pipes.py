"""The two pipes between the crawl and its writer process, and the frames they carry.

Crawl to writer: the crawl's reactor writes each `Capture` frame with `FramePipe`,
which never blocks the reactor on a full pipe; the writer reads them with
`FrameReader`, many at a time. Writer to crawl: the requisites the writer
found on each article page it parsed (`Requisites`), sent with a `FramePipe`
too and read by the crawl's reactor (`FrameReader.feed`).
"""

from __future__ import annotations

import fcntl
import os
import select
import threading
import time
from collections import deque
from contextlib import suppress
from typing import Any

from portal_crawler.writer.protocol import FRAME, unframe

# Frames that may wait for the writer before the reactor does. It fills only when the writer is slower than the
# crawl (a `--fast` crawl of the replica on a fast moment; a polite crawl of the portal never gets there), and
# then it is resident memory: a 20,000-article crawl alone peaked at 156-163 MB with 32 MB and at 136 MB with
# 8 MB, in 65.8-69.8 and 68.3-74.2 s (ad hoc, three of each, alternating).
BACKLOG_BYTES = 8 << 20


class FramePipe:
    """Frames to the writer's stdin, in order, without ever blocking the reactor on a full pipe.

    The reactor thread writes straight into the pipe (enlarged to 1 MB) while it has
    room: no thread hand-off and no lock contention per response. When the writer
    falls behind and the pipe fills, the rest waits in a backlog that a thread
    drains as the pipe empties; only a backlog over `limit` bytes makes the
    reactor wait (it bounds the crawl's memory).
    """

    def __init__(self, fd: int, limit: int = BACKLOG_BYTES) -> None:
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


WAITED = object()  # FrameReader.next: nothing came within the timeout


class FrameReader:
    """Messages from a pipe, in order, read many frames at a time.

    When the pipe is empty it waits for data, then lets `gather` seconds pass before
    reading, so that one wake-up and one read take the frames of many responses
    instead of one each: on a single core the crawl is then not interrupted once
    per response. What waits in the pipe meanwhile is bounded by its size; the
    sending side (FramePipe) keeps what does not fit.
    """

    def __init__(self, fd: int, gather: float = 0.0, chunk: int = 4 << 20) -> None:
        self.fd, self.gather, self.chunk = fd, gather, chunk
        self.buffer = bytearray()
        self.parsed: deque[Any] = deque()
        self.ended = False

    def next(self, timeout: float | None = None) -> Any:
        """The next message; `WAITED` if none came within `timeout` s; None at the end of the stream.

        A stream cut mid-frame ends there too: its complete frames come first.
        """
        while not self.parsed:
            if self.ended:
                return None
            if not select.select([self.fd], [], [], timeout)[0]:
                return WAITED
            if self.gather:
                time.sleep(self.gather)
            data = os.read(self.fd, self.chunk)
            if data:
                self.buffer += data
                self._parse()
            else:
                self.ended = True
        return self.parsed.popleft()

    def feed(self, data: bytes) -> list[Any]:
        """The complete messages once `data` is added (the crawl's reactor reads the pipe itself)."""
        self.buffer += data
        self._parse()
        found = list(self.parsed)
        self.parsed.clear()
        return found

    def _parse(self) -> None:
        at, view = 0, memoryview(self.buffer)
        try:
            while len(view) - at >= FRAME.size:
                size = FRAME.unpack_from(view, at)[0]
                if len(view) - at - FRAME.size < size:
                    break
                self.parsed.append(unframe(view[at + FRAME.size : at + FRAME.size + size]))
                at += FRAME.size + size
        finally:
            view.release()
        del self.buffer[:at]
