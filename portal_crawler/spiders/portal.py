"""The portal spider: listing pages to article pages, driven by a site profile.

`scrapy crawl portal -a profile=mps [-a start_url=URL] [-a full=1]` works from
the project root; `portal-crawler crawl` runs the same spider. Listing URLs are
canonicalised (last Page value wins) and article URLs by ID, so neither the
pager trap nor slug/host/tracking variants can grow the frontier.

`scrapy check portal` runs the callbacks' contracts against a replica and
archives nothing (`spiders/contracts.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings

from portal_crawler.crawl import standalone
from portal_crawler.crawl.archive_run import ArchiveRun
from portal_crawler.crawl.failures import failure_text
from portal_crawler.extraction.pages import listing_dates, listing_entries, listing_template
from portal_crawler.extraction.selectors import select
from portal_crawler.spiders import contracts
from portal_crawler.spiders.revisits import Revisits


class PortalSpider(Revisits):
    name = "portal"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """`scrapy crawl portal` as `portal-crawler crawl` runs it: the archive's log file, --fast (standalone.py)."""
        super().update_settings(settings)
        if not contracts.checking():
            standalone.prepare(settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.walk.page_limit = settings.getint("PORTAL_MAX_LISTING_PAGES")
        spider.feed_items = standalone.wants_items(settings)
        if settings.getbool("PORTAL_ARCHIVE_ENABLED") and not contracts.checking():
            mode = "full" if spider.full else "incremental"
            spider.archive = ArchiveRun.open(
                settings, spider.profile.ref or spider.profile.name, mode, tuple(sorted(spider.rules.hosts))
            )
            spider.archive.on_failure = spider.archive_failed
            spider.archive.on_requisites = spider.requisites_answered
            crawler.signals.connect(spider.archive.watch_answers, signal=signals.spider_opened)
            crawler.signals.connect(spider.wait_for_answers, signal=signals.spider_idle)
            crawler.signals.connect(spider.sweep_catalogue, signal=signals.spider_idle)
            previous_ok = spider.archive.catalogue.previous_walk_complete(spider.archive.run_id)
            spider.catch_up = not spider.full and not previous_ok
            if spider.catch_up:
                spider.logger.info("catch-up walk: the previous run did not end cleanly, every listing page is read")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        api = self.profile.api
        if api is not None and self.source == "auto" and self.archive is not None:
            first = api.listing_url(api.listing.first_page, self.api_base)
            self.using_api = bool(self.archive.catalogue.captured([first]))  # an earlier run walked the API
        if self.using_api:
            self.logger.info("walking the JSON API at %s", self.api_base)
            yield self.api_listing_request(api.listing.first_page)  # type: ignore[union-attr]  # using_api: an api
            return
        for url in self.start_urls:
            request = self._request(self.rules.classify(url), meta={"start": True})
            if request is not None:
                yield request

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """A listing page: its new articles, its requisites and the next page.

        @portal_url /news-and-events.html
        @listing_template
        @returns items 0 0
        @returns requests 11
        """
        if self.refused(response) or not isinstance(response, TextResponse):
            return
        api = self.profile.api
        if api is not None and self.source != "html" and select(response.selector.root, api.shell):
            yield from self._requisites(response)  # the shell is kept, with what it loads, for replay
            if not self.using_api:
                self.using_api = True
                self.logger.info("%s is an app shell: walking the JSON API at %s", response.url, self.api_base)
                yield self.api_listing_request(api.listing.first_page)
            return
        template = listing_template(self.profile, response)
        self.walk.read(response, template)
        entries = list(listing_entries(response, template, self.rules))
        dates = listing_dates(response, template, self.rules)
        yield from self._requisites(response)
        ids = [info.article_id for info, _ in entries if info.article_id]
        news = self.walk.brings_news(response.url, ids)
        known = self._known(ids)
        recheck = self._recheck(ids)
        for info, summary in entries:
            if info.article_id not in known:
                request = self._request(info, {"summary": summary, "listing_date": dates.get(info.article_id or "")})
            elif info.article_id in recheck:
                request = self._conditional(info, summary, recheck[info.article_id])
            else:
                continue
            if request is not None:
                yield request
        if news and (self.full or self.catch_up or recheck or len(known) < len(entries)):
            for info in self.walk.next_pages(response, template, self.full):
                if (request := self._request(info)) is not None:
                    yield request

    def closed(self, reason: str) -> None:
        if self.archive is None:
            return
        stats = self.crawler.stats.get_stats()
        errors = len(self.failed) + sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
        counts = {
            "requests": stats.get("downloader/request_count", 0),
            "responses": stats.get("downloader/response_count", 0),
            "errors": errors,
        }
        status = "ok" if errors == 0 and reason == "finished" else ("failed" if reason != "finished" else "errors")
        if self.blocked is None and self.walk.pages == 0 and self.walk_wall is not None:
            self.blocked = (
                f"blocked: no listing page could be read: {self.walk_wall}; the portal is refusing this crawler"
            )
            self.logger.error("%s", self.blocked)
        if reason == "blocked" or self.blocked is not None:
            status = "blocked"
        walk_complete = status == "ok" and not self.walk.stopped_early
        cause = self.blocked or failure_text(self.first_failure)  # kept in runs.error_summary
        code = self.archive.close(status, counts, walk_complete, dict(self.walk.signals), cause)
        if code != 0:
            self.logger.error("the archive writer exited with %s", code)
