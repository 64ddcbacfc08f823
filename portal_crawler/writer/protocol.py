"""The messages between the crawl and its writer process, defined once and imported by both sides.

The crawl's reactor thread only turns each response into a `Capture` and hands
it over; the writer process (`session.py`) writes the WARC records and decides,
from the capture alone, what the page is to the catalogue (a new or changed
article, a 304, a 404/410), on the machine's other core. Messages travel in
order on the writer's stdin as length-prefixed pickles: first the
`WriterConfig`, then one `Capture` per response, then `Close`. The writer
answers each article page the crawl left unparsed with its `Requisites` on a
second pipe (`writer/pipes.py` carries both ways).
"""

from __future__ import annotations

import logging
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class Close:
    """The last message: the crawl's own figures; the writer writes out everything and ends the run."""

    status: str
    stats: dict[str, int]
    walk_complete: bool
    signals: dict[str, list[str]] = field(default_factory=dict)  # listing drift: signal -> sample URLs
    error: str | None = None  # why the run is not ok, when the crawl knows: the wall, or its first failed fetch


Message = WriterConfig | Capture | Close | Requisites


def frame(message: Message) -> bytes:
    """One message as the bytes that carry it: length prefix, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data
