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
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

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


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks, missing = [], size
    while missing:
        chunk = stream.read(missing)
        if not chunk:
            break
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Any | None:
    """The next message, or None at end of stream (also when the stream was cut mid-frame)."""
    head = _read_exact(stream, FRAME.size)
    if len(head) < FRAME.size:
        return None
    size = FRAME.unpack(head)[0]
    data = _read_exact(stream, size)
    return pickle.loads(data) if len(data) == size else None
