"""The writer process's main loop: messages from the crawl, in order, until `Close` or end of stream.

If the writer cannot go on (the disk is full, the catalogue is unusable), it
says why in ONE line on its stdout, which the crawl reads and prints, leaves
the run row closed as `failed` when the catalogue still takes a write, and
exits with `EXIT_FAILED`; every record already written stays on disk, and
`verify --repair` catalogues those written after the last commit.
"""

from __future__ import annotations

import errno
import logging
import os
import sys

from portal_crawler.core.collector import tuned_collector
from portal_crawler.core.errors import PortalError
from portal_crawler.writer.pipes import WAITED, FrameReader
from portal_crawler.writer.protocol import Capture, Close, WriterConfig
from portal_crawler.writer.session import ArchiveSession

logger = logging.getLogger("portal_crawler.writer")
EXIT_DONE, EXIT_NO_CONFIG, EXIT_CRAWL_GONE, EXIT_FAILED = 0, 2, 3, 4
# How long the writer lets frames gather in the pipe once some arrive: one wake-up then takes
# a dozen responses (a crawl makes about 600 a second), and nothing waits longer than this.
GATHER_SECONDS = 0.05
STOPS = "%s: the writer stops; records on disk are kept (run 'portal-crawler verify --repair')"


def serve(reader: FrameReader) -> int:
    """Handle messages until `Close` (exit 0) or end of stream (the crawl died: exit 3)."""
    config = reader.next()
    if not isinstance(config, WriterConfig):
        return EXIT_NO_CONFIG
    logging.raiseExceptions = False  # a log write that fails (disk full) must not print tracebacks
    if config.log_file:
        logging.basicConfig(
            filename=config.log_file, level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s"
        )
    session: ArchiveSession | None = None
    try:
        session = ArchiveSession(config)
        return _loop(reader, session, config)
    except OSError as error:
        return _fail(session, cause_of(error, session.writer.current_filename if session else None))
    except PortalError as error:  # the catalogue refused (another SQLite writer holds it, or it is unusable)
        return _fail(session, str(error))


def _loop(reader: FrameReader, session: ArchiveSession, config: WriterConfig) -> int:
    while True:
        message = reader.next(config.commit_seconds)
        if message is WAITED:
            session.flush()
            continue
        if message is None:
            logger.warning("the crawl went away: writing out what it sent, run %s left interrupted", config.run_id)
            session.close(Close("interrupted", {}, walk_complete=False))
            return EXIT_CRAWL_GONE
        if isinstance(message, Close):
            session.close(message)
            return EXIT_DONE
        if isinstance(message, Capture):
            session.capture(message)


def cause_of(error: OSError, warc_file: str | None) -> str:
    name = error.filename or (f"warc/{warc_file}" if warc_file else None)
    where = f" {name}" if name else ""
    if error.errno == errno.ENOSPC:
        return f"disk full while writing{where or ' the archive'}"
    return f"cannot write the archive{where}: {error.strerror or error}"


def _fail(session: ArchiveSession | None, cause: str) -> int:
    """One line for the crawl to print; the run row closed as failed when the catalogue still takes it."""
    logger.error(STOPS, cause)
    print(cause, flush=True)  # the crawl reads this line from our stdout
    if session is not None:
        session.abandon(cause)
    return EXIT_FAILED


def main() -> None:
    reader = FrameReader(sys.stdin.fileno(), gather=GATHER_SECONDS)
    profile_to = os.environ.get("PORTAL_PROFILE_WRITER")  # bench.profile_crawl: where this process's time goes
    if not profile_to:
        with tuned_collector():
            code = serve(reader)
        sys.exit(code)
    import cProfile

    profiler = cProfile.Profile()
    code = profiler.runcall(serve, reader)
    profiler.dump_stats(profile_to)
    sys.exit(code)
