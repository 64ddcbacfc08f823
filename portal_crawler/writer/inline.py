"""The writer's session run inside the crawl process: for a machine that gives the crawl one CPU.

On two cores the writer process (`writer.loop`) takes WARC writing, reading
article pages and cataloguing off the crawl's core. On one core the two
processes only take turns: every turn switches address spaces, and each
refills the caches the other emptied. A 10,000-article crawl pinned to one CPU
took 78.5 and 90.4 s of CPU that way against 61.8 and 72.6 s with the same
session called in the crawl process (ad hoc, alternating, bare Scrapy 45.4
and 47.8 s). `InlineWriter` is that: the same `ArchiveSession`, the same
records, rows and commits (the WARC file fsynced before each), with no frames
and no pipes. What the writer process would answer (`Requisites`) is handed to
the crawl on the reactor's next turn, as the answers pipe would; a commit that
falls due while no response comes is made by a timer, as the writer process's
wait would.

What it cannot keep is the writer process's last act when the crawl is killed:
rows of records written since the last commit are then not catalogued, which
`portal-crawler verify --repair` does (as after a writer process that died).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from portal_crawler.core.errors import PortalError
from portal_crawler.writer.loop import EXIT_DONE, EXIT_FAILED, STOPS, cause_of
from portal_crawler.writer.protocol import Capture, Close, Message, Requisites, WriterConfig
from portal_crawler.writer.session import ArchiveSession

logger = logging.getLogger("portal_crawler.writer")


class InlineWriter:
    """`ArchiveSession` called directly, with the calls of `crawl.archive_run.ProcessWriter` (send, start, finish)."""

    def __init__(self, config: WriterConfig, answered: Callable[[Requisites], None]) -> None:
        self.answered = answered
        self.failure: str | None = None
        self.session: ArchiveSession | None = None
        self._timer: Any = None
        try:
            self.session = ArchiveSession(config)
        except (OSError, PortalError) as error:
            self._fail(error)
            return
        self.session.answer = self._answer
        self.commit_seconds = config.commit_seconds
        logger.info("run %s: the archive is written in the crawl process (one CPU)", config.run_id)

    def start(self) -> None:
        """Commit on time while no response comes (the reactor runs by now)."""
        from twisted.internet.task import LoopingCall

        if self.session is not None and self._timer is None:
            self._timer = LoopingCall(self._commit_due)
            self._timer.start(self.commit_seconds, now=False)

    def send(self, message: Message) -> bool:
        """Write one capture; False once the session has failed."""
        if isinstance(message, Capture):
            self._guarded(lambda session: session.capture(message))
        return self.failure is None

    def alive(self) -> bool:
        return self.failure is None

    def failure_line(self) -> str:
        return self.failure or "the archive writer stopped"

    def finish(self, close: Close) -> int:
        """The run's end: its figures written, the exit code the writer process would give."""
        self._stop_timer()
        self._guarded(lambda session: session.close(close))
        return EXIT_DONE if self.failure is None else EXIT_FAILED

    def _guarded(self, call: Callable[[ArchiveSession], None]) -> None:
        """`call` on the session unless it has failed; a failure stops the writing and says why."""
        if self.failure is not None or self.session is None:
            return
        try:
            call(self.session)
        except (OSError, PortalError) as error:
            self._fail(error)
        except Exception as error:  # a bug: in a signal handler Scrapy would log it and go on, losing captures
            logger.exception("the archive writer failed")
            self._fail(error)

    def _answer(self, answer: Requisites) -> None:
        from twisted.internet import reactor

        cast(Any, reactor).callLater(0, self.answered, answer)  # on the reactor's next turn, as the pipe would

    def _commit_due(self) -> None:
        self._guarded(lambda session: session.commit_due())

    def _fail(self, error: Exception) -> None:
        session = self.session
        warc_file = session.writer.current_filename if session is not None else None
        if isinstance(error, OSError):
            self.failure = cause_of(error, warc_file)
        elif isinstance(error, PortalError):
            self.failure = str(error)
        else:  # what the writer process's death would say, with the error's name (the log has its traceback)
            self.failure = f"the archive writer failed ({type(error).__name__}: {error})"
        logger.error(STOPS, self.failure)
        self._stop_timer()
        if session is not None:
            session.abandon(self.failure)

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
