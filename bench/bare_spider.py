"""The baseline of the crawl benchmark: bare Scrapy making the same requests as a full crawl.

    python -m bench.bare_spider --start-url http://127.0.0.1:P/news-and-events.html [--log-file F]

Same settings as `portal-crawler crawl --full --fast` (portal_crawler.settings +
portal_crawler.crawl.run.FAST_SETTINGS, robots.txt obeyed, logging to a file at the
same level), but none of our extensions or pipelines and no archive. It follows
the same listing pages (pager links, full mode), article links and page
requisites (img/css/js) through the same canonicalisation
(`portal_crawler.extraction.urls.UrlRules` and the link readers of `portal_crawler.extraction.pages`),
with the same priorities, so it makes the same requests. It extracts nothing
from article pages but their requisite links and writes nothing.

Prints one JSON line at the end: {"requests": ..., "responses": ..., "seconds": ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse
from scrapy.settings import Settings

from portal_crawler.crawl.run import FAST_SETTINGS
from portal_crawler.extraction.pages import (
    listing_entries,
    listing_template,
    requisite_urls,
)
from portal_crawler.extraction.profile import load_profile
from portal_crawler.extraction.urls import UrlInfo, UrlRules
from portal_crawler.spiders.base import PRIORITY


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_url: str, profile: str = "mps", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = load_profile(profile)
        self.start_urls = [start_url]
        self.rules = UrlRules(self.profile, (urlsplit(start_url).netloc.lower(),))
        self.seen_ids: set[str] = set()
        self.requisites_seen: set[str] = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            info = self.rules.classify(url)
            yield scrapy.Request(info.url, callback=self.parse_listing, priority=PRIORITY.get(info.kind, 0))

    def _request(self, info: UrlInfo) -> scrapy.Request | None:
        if not self.rules.allowed(info.url):
            return None
        callback: Callable[[Response], Iterator[scrapy.Request] | None]
        if info.kind == "article":
            if info.article_id is None or info.article_id in self.seen_ids:
                return None
            self.seen_ids.add(info.article_id)
            callback = self.parse_article
        elif info.kind == "listing":
            callback = self.parse_listing
        elif info.kind == "requisite":
            callback = self.parse_nothing
        else:
            return None
        return scrapy.Request(info.url, callback=callback, priority=PRIORITY.get(info.kind, 0))

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        template = listing_template(self.profile, response)
        entries = list(listing_entries(response, template, self.rules))
        yield from self._requisites(response)
        for info, _summary in entries:
            request = self._request(info)
            if request is not None:
                yield request
        if entries and template is not None:
            for href in response.css(template.pager_links).getall():
                info = self.rules.classify(response.urljoin(href))
                if info.kind == "listing":
                    request = self._request(info)
                    if request is not None:
                        yield request

    def parse_article(self, response: Response) -> Iterator[scrapy.Request]:
        if isinstance(response, TextResponse):
            yield from self._requisites(response)

    def _requisites(self, response: TextResponse) -> Iterator[scrapy.Request]:
        for info in requisite_urls(response, self.rules):
            if info.url in self.requisites_seen:
                continue
            self.requisites_seen.add(info.url)
            request = self._request(info)
            if request is not None:
                yield request

    def parse_nothing(self, response: Response) -> None:
        return None


def bare_settings(log_file: str | None) -> Settings:
    settings = Settings()
    settings.setmodule("portal_crawler.settings", priority="project")
    settings.setdict(FAST_SETTINGS, priority="cmdline")
    settings.setdict(
        {
            "EXTENSIONS": {"portal_crawler.extensions.WarcCaptureExtension": None},
            "ITEM_PIPELINES": {},
            "PORTAL_ARCHIVE_ENABLED": False,
            "LOG_FILE": log_file,
            "LOG_FILE_APPEND": False,
        },
        priority="cmdline",
    )
    if not log_file:
        settings.set("LOG_ENABLED", False, priority="cmdline")
    return settings


def run_bare(spider: type[scrapy.Spider], prog: str, argv: list[str] | None = None) -> int:
    """Crawl with `spider` from --start-url; print {"requests", "responses", "seconds"} as one JSON line."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--start-url", required=True)
    parser.add_argument("--log-file")
    args = parser.parse_args(argv)
    process = CrawlerProcess(bare_settings(args.log_file))
    crawler = process.create_crawler(spider)
    started = time.monotonic()
    process.crawl(crawler, start_url=args.start_url)
    process.start()
    seconds = time.monotonic() - started
    stats = crawler.stats.get_stats()
    result = {
        "requests": stats.get("downloader/request_count", 0),
        "responses": stats.get("downloader/response_count", 0),
        "seconds": round(seconds, 3),
    }
    print(json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_bare(BareSpider, "python -m bench.bare_spider", argv)


if __name__ == "__main__":
    sys.exit(main())
