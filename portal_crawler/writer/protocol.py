"""The messages between the crawl and its writer process, defined once and imported by both sides.

The crawl's reactor thread only turns each response into a `Capture` and hands
it over; the writer process (`session.py`) writes the WARC records and decides,
from the capture alone, what the page is to the catalogue (a new or changed
article, a 304, a 404/410), on the machine's other core. Messages travel in
order on the writer's stdin as length-prefixed frames: first the
`WriterConfig`, then one `Capture` per response, then `Close`. The writer
answers each article page the crawl left unparsed with its `Requisites` on a
second pipe (`writer/pipes.py` carries both ways).

A `Capture` or `Requisites` frame is the message's fields as a flat tuple in
`marshal`, the rare ones (config, close) a pickle. Written by hand for cost: a
frozen dataclass pickles through copyreg with its class looked up by name on
every load, 23 µs to dump and 39 µs to load a capture against 5 and 5 µs for
marshal (ad hoc, over a recorded crawl's 6,142 captures), once per response
on each side. marshal's format is tied to the Python version, and both ends are
the same interpreter (the writer is started with `sys.executable`).
"""

from __future__ import annotations

import logging
import marshal
import pickle
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    answers_to: int | None = None  # the pipe for `Requisites` answers (a descriptor the writer inherits)


@dataclass(frozen=True)
class Capture:
    """One response as the server sent it, with what the crawl knew of its URL when it asked."""

    exchange: Exchange
    info: UrlInfo | None  # None: a URL the spider did not classify (robots.txt, a redirect target)
    summary: str | None = None  # the summary the listing page gave an article
    listing_date: str | None = None  # the date the listing page printed for it (ISO)
    wants_requisites: bool = False  # an article page the crawl did not parse: answer with its `Requisites`


@dataclass(frozen=True)
class Requisites:
    """The writer's answer to a `Capture` that wants requisites: what the page embeds from the portal.

    The writer parses every article page to catalogue it, so the crawl leaves
    the page's images, stylesheets and scripts for it to find (one parse, not
    two) and requests what it answers.
    """

    url: str
    found: tuple[str, ...]
    wall: str | None = None  # the page is a wall of this kind (`extraction.walls`), for the crawl's streak


@dataclass(frozen=True)
class Close:
    """The last message: the crawl's own figures; the writer writes out everything and ends the run."""

    status: str
    stats: dict[str, int]
    walk_complete: bool
    signals: dict[str, list[str]] = field(default_factory=dict)  # listing drift: signal -> sample URLs
    error: str | None = None  # why the run is not ok, when the crawl knows: the wall, or its first failed fetch


Message = WriterConfig | Capture | Close | Requisites


# PORTAL_WRITER: where the archive is written (crawl/archive_run.writes_inline): a writer process, the
# crawl process itself (writer/inline.py), or the one that suits the CPUs the crawl may use.
WRITER_CHOICES = ("auto", "process", "inline")
CAPTURE, ANSWER, PICKLE = b"C", b"R", b"P"  # the frame's first byte: how the rest is encoded
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def frame(message: Message) -> bytes:
    """One message as the bytes that carry it: length prefix, kind, then the encoded message."""
    data = _marshalled(message) or PICKLE + pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


def _marshalled(message: Message) -> bytes | None:
    """A capture (timed in UTC) or an answer as a marshal tuple; None for what goes as a pickle."""
    try:
        if isinstance(message, Capture) and message.exchange.fetched_at.tzinfo is UTC:
            return CAPTURE + marshal.dumps(_capture_fields(message))
        if isinstance(message, Requisites):
            return ANSWER + marshal.dumps((message.url, message.found, message.wall))
    except ValueError:  # a value marshal does not carry (a str subclass, say): pickled, as it comes
        pass
    return None


def unframe(data: memoryview | bytes) -> Message:
    """The message of one frame's bytes (after its length prefix), as `frame` encoded it."""
    kind, rest = bytes(data[:1]), data[1:]
    if kind == CAPTURE:
        return _capture(marshal.loads(rest))
    if kind == ANSWER:
        url, found, wall = marshal.loads(rest)
        return Requisites(url, found, wall)
    message: Message = pickle.loads(rest)
    return message


def _capture_fields(message: Capture) -> tuple[Any, ...]:
    e, info = message.exchange, message.info
    url_info = None if info is None else (info.kind, info.url, info.article_id, info.section, info.page)
    moment = (e.fetched_at - EPOCH) // MICROSECOND  # exact, where a float timestamp could round
    exchange = (e.url, e.method, e.request_headers, e.request_body, e.status, e.reason, e.response_headers, e.body)
    return (*exchange, moment, e.ip_address, e.protocol, url_info, message.summary, message.listing_date,
            message.wants_requisites)  # fmt: skip


def _capture(values: tuple[Any, ...]) -> Capture:
    url, method, request_headers, request_body, status, reason, response_headers, body = values[:8]
    moment, ip_address, protocol, url_info, summary, listing_date, wants = values[8:]
    fetched_at = EPOCH + moment * MICROSECOND
    exchange = Exchange(
        url,
        method,
        request_headers,
        request_body,
        status,
        reason,
        response_headers,
        body,
        fetched_at,
        ip_address,
        protocol,
    )
    info = None if url_info is None else UrlInfo(*url_info)
    return Capture(exchange, info, summary, listing_date, wants)
