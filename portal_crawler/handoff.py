"""The crawl's side of the archive: lock, run row, catalogue reads, and the hand-off to the writer process."""

from __future__ import annotations

import itertools
import os
import queue
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import Response

from portal_crawler import __version__
from portal_crawler.capture import exchange_from_scrapy
from portal_crawler.catalogue import Catalogue
from portal_crawler.lock import ArchiveLock
from portal_crawler.urls import UrlInfo
from portal_crawler.writer import WriterConfig, write_frame


class WriterFailed(RuntimeError):
    """The writer process stopped before the run ended; its log says why."""


class ArchiveRun:
    """Reads the catalogue for the spider; every write goes, in order, to the writer process."""

    def __init__(self, archive_dir: Path, profile: str, mode: str, *, max_warc_size: int, commit_every: int,
                 commit_seconds: float, lock_fd: int | None = None, log_file: str | None = None) -> None:
        self.archive_dir = Path(archive_dir)
        self.lock = None if lock_fd is not None else ArchiveLock(self.archive_dir).acquire()
        lock_fd = lock_fd if lock_fd is not None else self.lock.fd
        self.catalogue = Catalogue(self.archive_dir / "catalogue.db")
        self.run_id = self.catalogue.start_run(mode, profile, __version__, os.getpid())
        config = WriterConfig(self.archive_dir, profile, self.run_id, mode, max_warc_size, commit_every,
                              commit_seconds, log_file)
        log = _log_stream(log_file)
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "portal_crawler.writer"], stdin=subprocess.PIPE,
                                            pass_fds=(lock_fd,), stdout=subprocess.DEVNULL, stderr=log)
        finally:
            if log is not None:
                log.close()
        self._tokens = itertools.count(1)
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue(maxsize=256)
        self._feeder = threading.Thread(target=self._feed, name="archive-feeder", daemon=True)
        self._feeder.start()
        self._send(config)

    def _feed(self) -> None:
        """Writes queued messages to the writer's stdin (a thread, so the reactor never blocks on the pipe)."""
        stdin = self.process.stdin
        while (message := self._queue.get()) is not None:
            try:
                write_frame(stdin, message)
            except (BrokenPipeError, ValueError):
                break
        try:
            stdin.close()
        except BrokenPipeError:
            pass

    def _send(self, message: Any) -> None:
        if not self._feeder.is_alive():
            raise WriterFailed(f"the archive writer stopped (exit {self.process.poll()}); see the run's log")
        self._queue.put(message)

    def capture(self, request: Request, response: Response, info: UrlInfo | None) -> tuple[int, datetime]:
        fetched_at = datetime.now(timezone.utc)
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
        if self._feeder.is_alive():
            self._queue.put(("close", status, stats, walk_complete))
        self._queue.put(None)
        self._feeder.join()
        code = self.process.wait()
        if code != 0:
            self.catalogue.finish_run(self.run_id, "failed", stats, f"archive writer exited with {code}")
        self.catalogue.close()
        if self.lock:
            self.lock.release()
        return code


def _log_stream(log_file: str | None) -> Any:
    if not log_file:
        return None
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    return open(log_file, "ab")  # noqa: SIM115 (the child keeps it; ours closes with the process)
