"""The writer process's session: everything one run writes (WARC records, catalogue rows, run figures).

For each `Capture` the session writes the request/response (or revisit) pair,
catalogues the capture, and, for an article URL, runs the article stages on
it: extract with the profile, validate (a page with no title and no text is
not an article), then deduplicate and version it in the catalogue by article
ID and content hash (`catalogue.ingest`, the same code `reindex` runs).
DESIGN.md puts these stages in Scrapy item pipelines; they run here, beside the
WARC writing, so the crawl's own thread stays free for Scrapy. Catalogue rows
are committed in batches, and only after the WARC file is fsynced, so the
catalogue never points at bytes that are not on disk.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress

from portal_crawler.catalogue import Catalogue
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.core.times import iso_seconds
from portal_crawler.extraction.profile import load_profile
from portal_crawler.extraction.urls import ARTICLE_KINDS, ARTICLE_STATUSES, UrlRules
from portal_crawler.warc.records import Exchange, RecordPointer, header
from portal_crawler.warc.writer import WarcWriter
from portal_crawler.writer.pipes import FramePipe
from portal_crawler.writer.protocol import Capture, Close, Requisites, WriterConfig, frame
from portal_crawler.writer.quality import RunQuality, alarm_line, alarms

logger = logging.getLogger("portal_crawler.writer")


class ArchiveSession:
    """One run's writing, in the writer process."""

    def __init__(self, config: WriterConfig) -> None:
        self.config = config
        paths = ArchivePaths(config.archive_dir)
        self.profile = load_profile(config.profile)
        self.rules = UrlRules(self.profile, tuple(origin.split("//", 1)[-1] for origin in config.scope))
        self.catalogue = Catalogue(paths.catalogue)
        self.writer = WarcWriter(
            paths.warc, host=socket.gethostname(), max_size=config.max_warc_size, warcinfo=self._warcinfo()
        )
        self.counts: Counter[str] = Counter()
        self.quality = RunQuality()
        self._pending, self._last_commit = 0, time.monotonic()
        self.answers = FramePipe(config.answers_to) if config.answers_to is not None else None
        self.answer: Callable[[Requisites], None] | None = None  # in the crawl process (writer/inline.py): no pipe

    def _warcinfo(self) -> dict[str, str]:
        info = {
            "operator": "portal-crawler",
            "profile": self.profile.name,
            "robots": self.config.robots,
            "run-id": str(self.config.run_id),
            "mode": self.config.mode,
            "isPartOf": f"mps-{self.profile.name}",
        }
        if self.config.scope:
            info["scope"] = " ".join(self.config.scope)
        return info

    def capture(self, message: Capture) -> None:
        """Write one exchange, catalogue its capture, and catalogue what an article page says."""
        exchange = message.exchange
        capture_id = self._write(exchange)
        info = message.info
        answer = Requisites(exchange.url, ())  # what the page embeds (or the wall it is), when the crawl asks
        if info is not None and info.kind in ARTICLE_KINDS and exchange.status in ARTICLE_STATUSES:
            answer = self._catalogue_article(message, capture_id)
        if message.wants_requisites:  # an answer for every such page, even empty
            if self.answer is not None:
                self.answer(answer)
            elif self.answers is not None:
                self.answers.send(frame(answer))
        self._written()

    def _catalogue_article(self, message: Capture, capture_id: int) -> Requisites:
        """Read an article URL's capture and catalogue what it says; the answer the crawl may want."""
        # Imported at the first article page: Scrapy, lxml and the extractors are two thirds of the
        # writer's start-up (0.45 against 0.17 s), and a nightly run with nothing new never needs them.
        from portal_crawler.catalogue.ingest import PageCapture, read_page, record_page

        exchange, info = message.exchange, message.info
        assert info is not None
        fetched_at = iso_seconds(exchange.fetched_at)
        page = PageCapture(
            exchange.url, exchange.status, exchange.response_headers, exchange.body, capture_id, fetched_at
        )
        reading = read_page(
            page, info, self.profile, self.rules, listing_date=message.listing_date, requisites=message.wants_requisites
        )
        outcome = record_page(self.catalogue, reading, message.summary)
        if outcome in ("new", "updated") and reading.article is not None:
            self.quality.add(reading.article)
        self._count(
            outcome, reading.problem or f"article {info.article_id} answers {exchange.status} and was never archived"
        )
        return Requisites(exchange.url, reading.requisites, reading.wall)

    def _write(self, exchange: Exchange) -> int:
        """The WARC records (a revisit when the payload did not change) and the capture's row."""
        prior = self.catalogue.prior_capture(exchange.url) if exchange.status in (200, 304) else None
        pointer: RecordPointer
        if exchange.status == 304 and prior is not None:
            pointer = self.writer.write_not_modified(exchange, prior)
        else:
            pointer = self.writer.write_exchange(exchange, prior if exchange.status == 200 else None)
        headers = exchange.response_headers
        return self.catalogue.add_capture(
            self.config.run_id,
            pointer,
            url=exchange.url,
            status=exchange.status,
            content_type=header(headers, "content-type"),
            fetched_at=iso_seconds(exchange.fetched_at),
            etag=header(headers, "etag"),
            last_modified=header(headers, "last-modified"),
            refers_to=prior.record_id if prior and pointer.record_type == "revisit" else None,
        )

    def _count(self, outcome: str | None, problem: str) -> None:
        if outcome == "error":
            self.counts["errors"] += 1
            logger.error("%s", problem)
        elif outcome == "blocked":  # not catalogued: an error, so the next run asks for the page again
            self.counts["blocked"] += 1
            self.counts["errors"] += 1
            logger.warning("%s", problem)
        elif outcome == "gone":
            self.counts["articles_gone"] += 1
        elif outcome is not None:
            self.counts[f"articles_{outcome}"] += 1

    def _written(self) -> None:
        self._pending += 1
        if self._pending >= self.config.commit_every:
            self.flush()
        else:
            self.commit_due()

    def commit_due(self) -> None:
        """Commit what is pending once `commit_seconds` have passed since the last commit."""
        if self._pending and time.monotonic() - self._last_commit > self.config.commit_seconds:
            self.flush()

    def flush(self) -> None:
        """WARC bytes to disk first, then the catalogue rows that point at them."""
        self.writer.sync()
        self.catalogue.commit()
        self._pending, self._last_commit = 0, time.monotonic()

    def close(self, close: Close) -> None:
        """The run's end: everything to disk, then its figures, quality and alarms in `runs`."""
        self.flush()
        self.writer.close()
        counts = {**close.stats, **self.counts, "warc_bytes": self.writer.bytes_written}
        counts["errors"] = close.stats.get("errors", 0) + self.counts.get("errors", 0)
        status = "errors" if close.status == "ok" and counts["errors"] else close.status
        self.catalogue.set_walk_complete(self.config.run_id, close.walk_complete and status == "ok")
        found = alarms(self.quality, self.profile.drift, close.signals)
        if found:
            logger.warning("%s", alarm_line(found))
        self.catalogue.record_run_quality(self.config.run_id, self.quality.as_json(), found)
        self.catalogue.finish_run(self.config.run_id, status, counts, close.error)
        self.catalogue.close()

    def abandon(self, cause: str) -> None:
        """The writer cannot go on: keep what is on disk, close the run row as failed if SQLite still can."""
        try:  # rows of records already on disk are kept when the file still syncs
            self.flush()
        except Exception:
            with suppress(Exception):
                self.catalogue.conn.rollback()
        with suppress(Exception):  # the disk may be too full for SQLite too: the next run closes the row then
            counts = {**self.counts, "warc_bytes": self.writer.bytes_written}
            self.catalogue.finish_run(self.config.run_id, "failed", counts, cause)
