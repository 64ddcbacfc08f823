"""The messages from the crawl to its writer process, defined once and imported by both sides.

The crawl's reactor thread only turns each response into a `Capture` and hands
it over; the writer process (`session.py`) writes the WARC records and decides,
from the capture alone, what the page is to the catalogue (a new or changed
article, a 304, a 404/410), on the machine's other core. Messages travel in
order on the writer's stdin as length-prefixed pickles: first the
`WriterConfig`, then one `Capture` per response, then `Close`.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.warc.records import Exchange

FRAME = struct.Struct("!I")
logger = logging.getLogger("portal_crawler.writer")


@dataclass(frozen=True)
class WriterConfig:
    """The first message: which run this is and where its archive is."""

    archive_dir: Path
    profile: str
    run_id: int
    mode: str
    max_warc_size: int
    commit_every: int
    commit_seconds: float
    log_file: str | None = None
    robots: str = "obey"
    scope: tuple[str, ...] = ()  # the origins (scheme://host:port) the run may fetch


@dataclass(frozen=True)
class Capture:
    """One response as the server sent it, with what the crawl knew of its URL when it asked."""

    exchange: Exchange
    info: UrlInfo | None  # None: a URL the spider did not classify (robots.txt, a redirect target)
    summary: str | None = None  # the summary the listing page gave an article
    listing_date: str | None = None  # the date the listing page printed for it (ISO)


@dataclass(frozen=True)
class Close:
    """The last message: the crawl's own figures; the writer writes out everything and ends the run."""

    status: str
    stats: dict[str, int]
    walk_complete: bool
    signals: dict[str, list[str]] = field(default_factory=dict)  # listing drift: signal -> sample URLs
    error: str | None = None  # why the run is not ok, when the crawl knows: the wall, or its first failed fetch


Message = WriterConfig | Capture | Close


def frame(message: Message) -> bytes:
    """One message as the bytes that carry it: length prefix, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


WAITED = object()  # FrameReader.next: nothing came within the timeout


class FrameReader:
    """Messages from a pipe, in order, read many frames at a time.

    When the pipe is empty it waits for data, then lets `gather` seconds pass before
    reading, so that one wake-up and one read take the frames of many responses
    instead of one each: on a single core the crawl is then not interrupted once
    per response. What waits in the pipe meanwhile is bounded by its size; the
    crawl's side (crawl/handoff.py) keeps what does not fit.
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

    def _parse(self) -> None:
        at, view = 0, memoryview(self.buffer)
        try:
            while len(view) - at >= FRAME.size:
                size = FRAME.unpack_from(view, at)[0]
                if len(view) - at - FRAME.size < size:
                    break
                self.parsed.append(pickle.loads(view[at + FRAME.size : at + FRAME.size + size]))
                at += FRAME.size + size
        finally:
            view.release()
        del self.buffer[:at]
