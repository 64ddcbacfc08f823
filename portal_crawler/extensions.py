"""Scrapy extensions: the WARC capture hook (and, on a terminal, the progress line in crawl/progress.py)."""

from __future__ import annotations

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response


class WarcCaptureExtension:
    """Hands every downloaded response, as the server sent it, to the spider's ArchiveRun."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureExtension:
        if not crawler.settings.getbool("PORTAL_ARCHIVE_ENABLED"):
            raise NotConfigured("archiving disabled")
        return cls(crawler)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        run = getattr(spider, "archive", None)
        if run is not None:
            run.capture(request, response, request.meta.get("info"))
