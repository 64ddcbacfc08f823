"""One run's archive: WARC writer + catalogue + run row, and the extension that feeds it.

`WarcCaptureExtension` listens to Scrapy's `response_downloaded` signal, which
fires before the downloader middlewares decompress, so the WARC record holds
the entity as the server sent it. The capture's catalogue row id travels in
`request.meta["capture_id"]` to the item. Catalogue rows are committed in
batches, and only after the WARC file is fsynced, so the catalogue never
points at bytes that are not on disk.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from portal_crawler import __version__
from portal_crawler.capture import exchange_from_scrapy
from portal_crawler.catalogue import Catalogue, Outcome
from portal_crawler.items import Article
from portal_crawler.lock import ArchiveLock
from portal_crawler.profile import Profile
from portal_crawler.warc import RecordPointer, WarcWriter

def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ArchiveSession:
    """Everything one run writes: WARC records, catalogue rows, the run's bookkeeping."""

    def __init__(self, archive_dir: Path, profile: Profile, mode: str, *, max_warc_size: int = 10**9,
                 commit_every: int = 200, commit_seconds: float = 2.0, take_lock: bool = True) -> None:
        self.archive_dir = Path(archive_dir)
        self.lock = ArchiveLock(self.archive_dir).acquire() if take_lock else None
        self.catalogue = Catalogue(self.archive_dir / "catalogue.db")
        self.run_id = self.catalogue.start_run(mode, profile.name, __version__, os.getpid())
        self.writer = WarcWriter(
            self.archive_dir / "warc", host=socket.gethostname(), max_size=max_warc_size,
            warcinfo={"operator": "portal-crawler", "profile": profile.name,
                      "robots": "obey", "run-id": str(self.run_id), "mode": mode, "isPartOf": f"mps-{profile.name}"},
        )
        self.counts: Counter[str] = Counter()
        self._commit_every, self._commit_seconds = commit_every, commit_seconds
        self._pending, self._last_commit = 0, time.monotonic()

    def capture(self, request: Request, response: Response) -> tuple[int, datetime]:
        """Write one exchange to WARC and catalogue its capture; returns the capture id and fetch time."""
        fetched_at = datetime.now(timezone.utc)
        exchange = exchange_from_scrapy(request, response, fetched_at)
        prior = self.catalogue.prior_capture(request.url) if response.status in (200, 304) else None
        if response.status == 304 and prior is not None:
            pointer = self.writer.write_not_modified(exchange, prior)
        else:
            pointer = self.writer.write_exchange(exchange, prior if response.status == 200 else None)
        capture_id = self.catalogue.add_capture(
            self.run_id, pointer, url=request.url, status=response.status,
            content_type=_header(response, b"Content-Type"), fetched_at=iso(fetched_at),
            etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
            refers_to=prior.record_id if prior and pointer.record_type == "revisit" else None,
        )
        self._written()
        return capture_id, fetched_at

    def catalogue_article(self, article: Article) -> Outcome:
        outcome = self.catalogue.upsert_article(vars(article), article.capture_id, article.fetched_at or iso(datetime.now(timezone.utc)))
        self.counts[f"articles_{outcome}"] += 1
        self._written()
        return outcome

    def article_unchanged(self, article_id: str, capture_id: int | None, seen_at: str) -> None:
        if self.catalogue.touch_article(article_id, seen_at, capture_id):
            self.counts["articles_unchanged"] += 1
            self._written()

    def article_gone(self, article_id: str, capture_id: int | None, seen_at: str) -> None:
        if self.catalogue.mark_gone(article_id, seen_at, capture_id):
            self.counts["articles_gone"] += 1
            self._written()

    def _written(self) -> None:
        self._pending += 1
        if self._pending >= self._commit_every or time.monotonic() - self._last_commit > self._commit_seconds:
            self.flush()

    def flush(self) -> None:
        """WARC bytes to disk first, then the catalogue rows that point at them."""
        self.writer.sync()
        self.catalogue.commit()
        self._pending, self._last_commit = 0, time.monotonic()

    def close(self, status: str, stats: dict[str, int], walk_complete: bool = False) -> None:
        self.catalogue.set_walk_complete(self.run_id, walk_complete)
        self.flush()
        self.writer.close()
        counts = {**stats, **self.counts, "warc_bytes": self.writer.bytes_written}
        self.catalogue.finish_run(self.run_id, status, counts)
        self.catalogue.close()
        if self.lock:
            self.lock.release()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class WarcCaptureExtension:
    """Archives every downloaded response through the spider's ArchiveSession."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "WarcCaptureExtension":
        if not crawler.settings.getbool("PORTAL_ARCHIVE_ENABLED", True):
            raise NotConfigured("archiving disabled")
        return cls(crawler)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        session: ArchiveSession | None = getattr(spider, "archive", None)
        if session is not None:
            request.meta["capture_id"], request.meta["fetched_at"] = session.capture(request, response)
