"""The crawl's side of the archive: lock, run row, catalogue reads, and the hand-off to the writer process."""

from __future__ import annotations

import fcntl
import itertools
import os
import select
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import Response

from portal_crawler import __version__
from portal_crawler.catalogue import Catalogue
from portal_crawler.core.lock import ArchiveLock
from portal_crawler.crawl.capture import exchange_from_scrapy
from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.writer.protocol import WriterConfig, frame


class ArchiveRun:
    """Reads the catalogue for the spider; every write goes, in order, to the writer process."""

    def __init__(
        self,
        archive_dir: Path,
        profile: str,
        mode: str,
        *,
        max_warc_size: int,
        commit_every: int,
        commit_seconds: float,
        lock_fd: int | None = None,
        log_file: str | None = None,
    ) -> None:
        self.archive_dir = Path(archive_dir)
        self.lock = None if lock_fd is not None else ArchiveLock(self.archive_dir).acquire()
        lock_fd = lock_fd if lock_fd is not None else self.lock.fd
        self.catalogue = Catalogue(self.archive_dir / "catalogue.db")
        self.run_id = self.catalogue.start_run(mode, profile, __version__, os.getpid())
        config = WriterConfig(
            self.archive_dir, profile, self.run_id, mode, max_warc_size, commit_every, commit_seconds, log_file
        )
        log = _log_stream(log_file)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "portal_crawler.writer"],
                stdin=subprocess.PIPE,
                pass_fds=(lock_fd,),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        finally:
            if log is not None:
                log.close()
        self._tokens = itertools.count(1)
        self.failure: str | None = None
        self.on_failure: Callable[[str], None] | None = None  # the spider stops the crawl: nothing more can be kept
        self._pipe = FramePipe(self.process.stdin.fileno())
        self._send(config)

    def _send(self, message: Any) -> None:
        """Hand one message over; if the writer has died, say so once (`on_failure`) and drop the rest."""
        if self.failure is not None or self._pipe.send(frame(message)):
            return
        self.failure = f"the archive writer stopped (exit {self.process.poll()})"
        if self.on_failure is not None:
            self.on_failure(self.failure)

    def capture(self, request: Request, response: Response, info: UrlInfo | None) -> tuple[int, datetime]:
        fetched_at = datetime.now(UTC)
        token = next(self._tokens)
        is_article = info is not None and info.kind == "article"
        self._send(("capture", token, exchange_from_scrapy(request, response, fetched_at), is_article))
        return token, fetched_at

    def article(self, token: int, info: UrlInfo, summary: str | None) -> None:
        self._send(("article", token, info, summary))

    def page_outcome(self, kind: str, token: int, article_id: str | None = None) -> None:
        """`unchanged` (304), `gone` (404/410) or `drop` (a page that is no article after all)."""
        self._send((kind, token) if kind == "drop" else (kind, token, article_id))

    def close(self, status: str, stats: dict[str, int], walk_complete: bool) -> int:
        """Hand over the run's figures, wait until everything is written; the writer's exit code."""
        self._pipe.send(frame(("close", status, stats, walk_complete)))
        self._pipe.close()
        with suppress(OSError):  # nothing is buffered there; a writer that died makes no difference
            self.process.stdin.close()
        code = self.process.wait()
        if code != 0:
            self.catalogue.finish_run(
                self.run_id,
                "failed",
                stats,
                f"the archive writer stopped (exit {code}) before the run ended; see the run's"
                " log; the next run fetches whatever is missing",
            )
        self.catalogue.close()
        if self.lock:
            self.lock.release()
        return code


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


def _log_stream(log_file: str | None) -> Any:
    if not log_file:
        return None
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    return open(log_file, "ab")
