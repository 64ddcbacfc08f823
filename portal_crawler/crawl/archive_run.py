"""The crawl's side of one run's archive: the lock, the run row, catalogue reads, and the writer.

Every write goes, in order, to the writer process (`portal_crawler.writer`)
as a typed message (`writer.protocol`); the crawl itself only reads the
catalogue (what is known, what to re-check, which requisites were captured).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import BaseSettings

from portal_crawler import __version__
from portal_crawler.catalogue import Catalogue
from portal_crawler.core.errors import UsageProblem
from portal_crawler.core.lock import ArchiveLock
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.core.times import utc_now
from portal_crawler.crawl.capture import exchange_from_scrapy
from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.writer.inline import InlineWriter
from portal_crawler.writer.pipes import FramePipe, FrameReader
from portal_crawler.writer.protocol import WRITER_CHOICES, Capture, Close, Message, Requisites, WriterConfig, frame


class ArchiveRun:
    """Reads the catalogue for the spider; hands every response to the writer (a process, or inline)."""

    def __init__(self, config: WriterConfig, *, lock_fd: int | None = None, inline: bool = False) -> None:
        paths = ArchivePaths(config.archive_dir)
        self.lock = None if lock_fd is not None else ArchiveLock(paths.root).acquire()
        self.catalogue = Catalogue(paths.catalogue)
        self.run_id = self.catalogue.start_run(config.mode, config.profile, __version__, os.getpid())
        self.config = WriterConfig(**{**vars(config), "run_id": self.run_id})
        self.failure: str | None = None
        self.on_failure: Callable[[str], None] | None = None  # the spider stops the crawl: nothing more can be kept
        self.on_requisites: Callable[[Requisites], None] | None = None  # the spider requests what a page embeds
        self.unanswered = 0  # article pages whose Requisites the writer has not sent yet
        self.last_answer = time.monotonic()  # when the writer last answered (or was last asked)
        fd = lock_fd if lock_fd is not None else self.lock.fd  # type: ignore[union-attr]
        # one CPU: the session in this process; otherwise the writer process on the second core
        self.writer = (
            InlineWriter(self.config, self._answered) if inline else ProcessWriter(self.config, fd, self._answered)
        )

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
        inline = writes_inline(settings.get("PORTAL_WRITER"))
        return cls(config, lock_fd=int(lock_fd) if lock_fd is not None else None, inline=inline)

    def _send(self, message: Message) -> None:
        """Hand one message over; if the writer has died, say so once (`on_failure`) and drop the rest."""
        if self.failure is not None or self.writer.send(message):
            return
        self.failure = self.writer_failure()
        if self.on_failure is not None:
            self.on_failure(self.failure)

    def capture(self, request: Request, response: Response, info: UrlInfo | None) -> None:
        """One downloaded response, as the server sent it, with what the spider knew of its URL."""
        exchange = exchange_from_scrapy(request, response, utc_now())
        # an HTML article page: the writer parses it anyway, and answers what it embeds
        wants = info is not None and info.kind == "article" and exchange.status == 200
        if wants:
            self.unanswered += 1
            self.last_answer = time.monotonic()
        meta = request.meta
        self._send(Capture(exchange, info, meta.get("summary"), meta.get("listing_date"), wants_requisites=wants))

    def watch_answers(self) -> None:
        """Start reading the writer's answers (spider_opened: the reactor runs by then)."""
        self.writer.start()

    def owes_answers(self, patience: float) -> bool:
        """Whether the writer still owes answers and is worth waiting for (alive, answered within `patience` s)."""
        waited = time.monotonic() - self.last_answer
        return self.unanswered > 0 and self.writer.alive() and waited < patience

    def _answered(self, message: Requisites) -> None:
        self.unanswered = max(0, self.unanswered - 1)  # 0 once the spider gave up waiting
        self.last_answer = time.monotonic()
        if self.on_requisites is not None:
            self.on_requisites(message)

    def writer_failure(self) -> str:
        """Why the writer stopped: the one line it gave, or its exit code."""
        return self.writer.failure_line()

    def close(
        self,
        status: str,
        stats: dict[str, int],
        walk_complete: bool,
        signals: dict[str, list[str]] | None = None,
        error: str | None = None,
    ) -> int:
        """Hand over the run's figures, wait until everything is written; the writer's exit code."""
        closing = Close(status, stats, walk_complete, signals or {}, error)
        code = self.writer.finish(closing)
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


class ProcessWriter:
    """The writer process (`python -m portal_crawler.writer`): messages as frames on its stdin, its
    `Requisites` answers on a pipe of their own. The same calls as `writer.inline.InlineWriter`."""

    def __init__(self, config: WriterConfig, lock_fd: int, answered: Callable[[Requisites], None]) -> None:
        answers, answers_to = os.pipe()  # the writer's Requisites answers come back on this one
        self.process = _start_writer(lock_fd, config.log_file, answers_to)
        self._pipe = FramePipe(_stdin(self.process).fileno())
        self._answers = AnswerReader(answers, answered)
        self.send(WriterConfig(**{**vars(config), "answers_to": answers_to}))  # its first message

    def send(self, message: Message) -> bool:
        """Into the pipe without blocking; False once the writer has died."""
        return self._pipe.send(frame(message))

    def start(self) -> None:
        self._answers.watch()

    def alive(self) -> bool:
        return self.process.poll() is None

    def failure_line(self) -> str:
        """The one line the writer printed, or its exit code."""
        code = self.process.wait()
        said = b""
        if self.process.stdout is not None:
            with suppress(OSError):
                said = self.process.stdout.read().strip()
        reason = said.decode("utf-8", "replace").splitlines()[-1] if said else ""
        return reason or f"the archive writer stopped (exit {code})"

    def finish(self, closing: Close) -> int:
        """The run's figures handed over; the writer's exit code once it has written everything."""
        self._pipe.send(frame(closing))
        self._pipe.close()
        self._answers.stop()
        with suppress(OSError):  # nothing is buffered there; a writer that died makes no difference
            _stdin(self.process).close()
        return self.process.wait()


def writes_inline(choice: str | None) -> bool:
    """PORTAL_WRITER: "process" (a writer process), "inline" (in the crawl process), or "auto": inline
    when this process may run on one CPU only (a one-core machine, or pinned), where two processes
    would only take turns on it (writer/inline.py)."""
    if choice not in WRITER_CHOICES:
        raise UsageProblem(f"PORTAL_WRITER must be one of {', '.join(WRITER_CHOICES)}, not {choice!r}")
    if choice == "auto":
        return len(os.sched_getaffinity(0)) == 1 if hasattr(os, "sched_getaffinity") else os.cpu_count() == 1
    return choice == "inline"


def _start_writer(lock_fd: int, log_file: str | None, answers_to: int) -> subprocess.Popen[bytes]:
    log = _log_stream(log_file)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "portal_crawler.writer"],
            stdin=subprocess.PIPE,
            pass_fds=(lock_fd, answers_to),
            stdout=subprocess.PIPE,
            stderr=log,
        )
    finally:
        if log is not None:
            log.close()
        os.close(answers_to)  # the writer's end now: the pipe ends (EOF here) when the writer does


class AnswerReader:
    """The writer's `Requisites` answers, read by the reactor as they come (Twisted's IReadDescriptor).

    `watch` starts it once the reactor runs (the spider is made before Scrapy installs its reactor).
    """

    def __init__(self, fd: int, handle: Callable[[Requisites], None]) -> None:
        self.fd, self.handle, self.frames = fd, handle, FrameReader(fd)
        self.reactor: Any = None
        os.set_blocking(fd, False)

    def watch(self) -> None:
        from twisted.internet import reactor

        if self.reactor is None and self.fd >= 0:
            self.reactor = reactor
            self.reactor.addReader(self)

    def fileno(self) -> int:
        return self.fd

    def doRead(self) -> None:  # Twisted's interface
        try:
            data = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return
        if not data:
            self.stop()
            return
        for message in self.frames.feed(data):
            if isinstance(message, Requisites):
                self.handle(message)

    def stop(self) -> None:
        if self.fd >= 0:
            if self.reactor is not None:
                self.reactor.removeReader(self)
            os.close(self.fd)
            self.fd = -1

    def connectionLost(self, reason: object) -> None:  # Twisted's interface
        self.stop()

    def logPrefix(self) -> str:  # Twisted's interface
        return "writer-answers"


def _stdin(process: subprocess.Popen[bytes]) -> IO[bytes]:
    assert process.stdin is not None  # started with stdin=PIPE
    return process.stdin


def _log_stream(log_file: str | None) -> Any:
    if not log_file:
        return None
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    return open(log_file, "ab")
