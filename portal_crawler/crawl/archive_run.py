"""The crawl's side of one run's archive: the lock, the run row, catalogue reads, and the writer process.

Every write goes, in order, to the writer process (`portal_crawler.writer`)
as a typed message (`writer.protocol`); the crawl itself only reads the
catalogue (what is known, what to re-check, which requisites were captured).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import BaseSettings

from portal_crawler import __version__
from portal_crawler.catalogue import Catalogue
from portal_crawler.core.lock import ArchiveLock
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.core.times import utc_now
from portal_crawler.crawl.capture import exchange_from_scrapy
from portal_crawler.crawl.handoff import FramePipe
from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.writer.protocol import Capture, Close, Message, WriterConfig, frame


class ArchiveRun:
    """Reads the catalogue for the spider; hands every response to the writer process."""

    def __init__(self, config: WriterConfig, *, lock_fd: int | None = None) -> None:
        paths = ArchivePaths(config.archive_dir)
        self.lock = None if lock_fd is not None else ArchiveLock(paths.root).acquire()
        self.catalogue = Catalogue(paths.catalogue)
        self.run_id = self.catalogue.start_run(config.mode, config.profile, __version__, os.getpid())
        self.config = WriterConfig(**{**vars(config), "run_id": self.run_id})
        fd = lock_fd if lock_fd is not None else self.lock.fd  # type: ignore[union-attr]
        self.process = _start_writer(fd, config.log_file)
        self.failure: str | None = None
        self.on_failure: Callable[[str], None] | None = None  # the spider stops the crawl: nothing more can be kept
        self._pipe = FramePipe(_stdin(self.process).fileno())
        self._send(self.config)

    @classmethod
    def open(cls, settings: BaseSettings, profile: str, mode: str, scope: tuple[str, ...]) -> ArchiveRun:
        """The run for a crawl with these Scrapy settings (PORTAL_* from settings.py, the lock the CLI holds)."""
        config = WriterConfig(
            archive_dir=Path(settings.get("PORTAL_ARCHIVE_DIR")),
            profile=profile,
            run_id=0,
            mode=mode,
            max_warc_size=settings.getint("PORTAL_WARC_MAX_SIZE"),
            commit_every=settings.getint("PORTAL_COMMIT_EVERY"),
            commit_seconds=settings.getfloat("PORTAL_COMMIT_SECONDS"),
            log_file=settings.get("LOG_FILE"),
            robots="obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            scope=scope,
        )
        lock_fd = settings.get("PORTAL_LOCK_FD")
        return cls(config, lock_fd=int(lock_fd) if lock_fd is not None else None)

    def _send(self, message: Message) -> None:
        """Hand one message over; if the writer has died, say so once (`on_failure`) and drop the rest."""
        if self.failure is not None or self._pipe.send(frame(message)):
            return
        self.failure = self.writer_failure()
        if self.on_failure is not None:
            self.on_failure(self.failure)

    def capture(self, request: Request, response: Response, info: UrlInfo | None) -> None:
        """One downloaded response, as the server sent it, with what the spider knew of its URL."""
        exchange = exchange_from_scrapy(request, response, utc_now())
        self._send(Capture(exchange, info, request.meta.get("summary"), request.meta.get("listing_date")))

    def writer_failure(self) -> str:
        """Why the writer stopped: the one line it printed, or its exit code."""
        code = self.process.wait()
        said = b""
        if self.process.stdout is not None:
            with suppress(OSError):
                said = self.process.stdout.read().strip()
        reason = said.decode("utf-8", "replace").splitlines()[-1] if said else ""
        return reason or f"the archive writer stopped (exit {code})"

    def close(
        self,
        status: str,
        stats: dict[str, int],
        walk_complete: bool,
        signals: dict[str, list[str]] | None = None,
        error: str | None = None,
    ) -> int:
        """Hand over the run's figures, wait until everything is written; the writer's exit code."""
        self._pipe.send(frame(Close(status, stats, walk_complete, signals or {}, error)))
        self._pipe.close()
        with suppress(OSError):  # nothing is buffered there; a writer that died makes no difference
            _stdin(self.process).close()
        code = self.process.wait()
        if code != 0:
            self.failure = self.failure or self.writer_failure()
            self.catalogue.finish_run(
                self.run_id,
                "failed",
                stats,
                f"{self.failure}; the next run fetches whatever"
                " is missing, and 'portal-crawler verify --repair' catalogues what is on disk",
            )
        self.catalogue.close()
        if self.lock:
            self.lock.release()
        return code


def _start_writer(lock_fd: int, log_file: str | None) -> subprocess.Popen[bytes]:
    log = _log_stream(log_file)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "portal_crawler.writer"],
            stdin=subprocess.PIPE,
            pass_fds=(lock_fd,),
            stdout=subprocess.PIPE,
            stderr=log,
        )
    finally:
        if log is not None:
            log.close()


def _stdin(process: subprocess.Popen[bytes]) -> IO[bytes]:
    assert process.stdin is not None  # started with stdin=PIPE
    return process.stdin


def _log_stream(log_file: str | None) -> Any:
    if not log_file:
        return None
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    return open(log_file, "ab")
