"""The writer process's session: everything one run writes (WARC records, catalogue rows, run figures).

`WarcCaptureExtension` listens to Scrapy's `response_downloaded` signal, which
fires before the downloader middlewares decompress, so the exchange holds the
entity as the server sent it. `ArchiveRun` (in the crawl) turns it into an
`Exchange` and sends it to the writer process (`writer.py`), where
`ArchiveSession` writes the WARC records and the catalogue rows. Catalogue rows
are committed in batches, and only after the WARC file is fsynced, so the
catalogue never points at bytes that are not on disk.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from portal_crawler.catalogue import Catalogue
from portal_crawler.extraction.pages import article_item, text_response
from portal_crawler.extraction.profile import load_profile
from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.warc.reader import decode_entity
from portal_crawler.warc.records import Exchange
from portal_crawler.warc.writer import WarcWriter
from portal_crawler.writer.protocol import WriterConfig


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


class ArchiveSession:
    """Everything one run writes (in the writer process): WARC records, catalogue rows, run bookkeeping."""

    def __init__(self, config: WriterConfig) -> None:
        self.config = config
        self.profile = load_profile(config.profile)
        self.catalogue = Catalogue(Path(config.archive_dir) / "catalogue.db")
        self.writer = WarcWriter(
            Path(config.archive_dir) / "warc",
            host=socket.gethostname(),
            max_size=config.max_warc_size,
            warcinfo={
                "operator": "portal-crawler",
                "profile": self.profile.name,
                "robots": "obey",
                "run-id": str(config.run_id),
                "mode": config.mode,
                "isPartOf": f"mps-{self.profile.name}",
            },
        )
        self.counts: Counter[str] = Counter()
        self.pages: dict[int, tuple[Exchange, int]] = {}
        self._pending, self._last_commit = 0, time.monotonic()

    def handle(self, message: tuple[Any, ...]) -> None:
        getattr(self, f"on_{message[0]}")(*message[1:])

    def on_capture(self, token: int, exchange: Exchange, is_article: bool) -> None:
        """Write one exchange to WARC (a revisit when the payload did not change) and catalogue it."""
        prior = self.catalogue.prior_capture(exchange.url) if exchange.status in (200, 304) else None
        if exchange.status == 304 and prior is not None:
            pointer = self.writer.write_not_modified(exchange, prior)
        else:
            pointer = self.writer.write_exchange(exchange, prior if exchange.status == 200 else None)
        headers = exchange.response_headers
        capture_id = self.catalogue.add_capture(
            self.config.run_id,
            pointer,
            url=exchange.url,
            status=exchange.status,
            content_type=_header(headers, "content-type"),
            fetched_at=iso(exchange.fetched_at),
            etag=_header(headers, "etag"),
            last_modified=_header(headers, "last-modified"),
            refers_to=prior.record_id if prior and pointer.record_type == "revisit" else None,
        )
        if is_article and exchange.status in (200, 304, 404, 410):  # the statuses the spider answers for
            self.pages[token] = (exchange, capture_id)
        self._written()

    def on_article(self, token: int, info: UrlInfo, summary: str | None) -> None:
        """Extract, validate and catalogue an article page (a new version when its content changed)."""
        exchange, capture_id = self.pages.pop(token)
        body = decode_entity(exchange.body, _header(exchange.response_headers, "content-encoding"))
        response = text_response(exchange.url, exchange.status, exchange.response_headers, body)
        if response is None:
            self.counts["errors"] += 1
            return
        article = article_item(
            response, info, self.profile, summary=summary, capture_id=capture_id, fetched_at=iso(exchange.fetched_at)
        )
        if not article.paragraphs and not article.title:
            self.counts["errors"] += 1
            return
        outcome = self.catalogue.upsert_article(vars(article), capture_id, article.fetched_at or "")
        self.counts[f"articles_{outcome}"] += 1
        self._written()

    def on_unchanged(self, token: int, article_id: str) -> None:
        exchange, capture_id = self.pages.pop(token)
        if self.catalogue.touch_article(article_id, iso(exchange.fetched_at), capture_id):
            self.counts["articles_unchanged"] += 1

    def on_gone(self, token: int, article_id: str) -> None:
        exchange, capture_id = self.pages.pop(token)
        if self.catalogue.mark_gone(article_id, iso(exchange.fetched_at), capture_id):
            self.counts["articles_gone"] += 1

    def on_drop(self, token: int) -> None:
        self.pages.pop(token, None)

    def _written(self) -> None:
        self._pending += 1
        if (
            self._pending >= self.config.commit_every
            or time.monotonic() - self._last_commit > self.config.commit_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """WARC bytes to disk first, then the catalogue rows that point at them."""
        self.writer.sync()
        self.catalogue.commit()
        self._pending, self._last_commit = 0, time.monotonic()

    def close(self, status: str, stats: dict[str, int], walk_complete: bool) -> None:
        self.flush()
        self.writer.close()
        counts = {**stats, **self.counts, "warc_bytes": self.writer.bytes_written}
        counts["errors"] = stats.get("errors", 0) + self.counts.get("errors", 0)
        if status == "ok" and counts["errors"]:
            status = "errors"
        self.catalogue.set_walk_complete(self.config.run_id, walk_complete and status == "ok")
        self.catalogue.finish_run(self.config.run_id, status, counts)
        self.catalogue.close()
