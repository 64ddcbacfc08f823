"""The writer process's main loop: messages from the crawl, in order, until `close` or end of stream."""

from __future__ import annotations

import logging
import select
import sys
from typing import BinaryIO

from portal_crawler.writer.protocol import WriterConfig, read_frame
from portal_crawler.writer.session import ArchiveSession

logger = logging.getLogger("portal_crawler.writer")


def serve(stream: BinaryIO) -> int:
    """Handle messages until `close` (exit 0) or end of stream (the crawl died: exit 3)."""
    config: WriterConfig = read_frame(stream)
    if config is None:
        return 2
    if config.log_file:
        logging.basicConfig(
            filename=config.log_file, level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s"
        )
    session = ArchiveSession(config)
    while True:
        if not select.select([stream], [], [], config.commit_seconds)[0]:
            session.flush()
            continue
        message = read_frame(stream)
        if message is None:
            logger.warning("the crawl went away: writing out what it sent, run %s left interrupted", config.run_id)
            session.close("interrupted", {}, walk_complete=False)
            return 3
        if message[0] == "close":
            session.close(*message[1:])
            return 0
        session.handle(message)


def main() -> None:
    with open(sys.stdin.fileno(), "rb", buffering=0, closefd=False) as stream:  # unbuffered: select() sees all
        sys.exit(serve(stream))
