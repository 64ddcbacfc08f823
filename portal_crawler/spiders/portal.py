"""The portal spider: listing pages to article pages, driven by a site profile.

`scrapy crawl portal -a profile=mps [-a start_url=URL] [-a full=1]` works from
the project root; `portal-crawler crawl` runs the same spider. Listing URLs are
canonicalised (last Page value wins) and article URLs by ID, so neither the
pager trap nor slug/host/tracking variants can grow the frontier.

`scrapy check portal` runs the callbacks' contracts against a replica and
archives nothing (`spiders/contracts.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from portal_crawler.crawl.archive_run import ArchiveRun
from portal_crawler.crawl.blocking import BlockWatch
from portal_crawler.crawl.walk import ListingWalk
from portal_crawler.extraction.pages import (
    listing_dates,
    listing_entries,
    listing_template,
    requisite_urls,
)
from portal_crawler.extraction.profile import Profile, load_profile
from portal_crawler.extraction.urls import UrlInfo, UrlRules
from portal_crawler.middlewares import OutOfScope
from portal_crawler.spiders import contracts

PRIORITY = {"requisite": 30, "article": 20, "listing": 0}
_TRUE = {"1", "true", "yes", "on"}


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in _TRUE


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(
        self,
        profile: str | Profile = "mps",
        start_url: str | Iterable[str] | None = None,
        full: Any = False,
        max_pages: Any = None,
        recheck_days: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        urls = [start_url] if isinstance(start_url, str) else list(start_url or [])
        self.start_urls = [u for s in urls for u in s.split(",") if u] or list(self.profile.start_urls)
        self.full = _flag(full)
        self.max_pages = int(max_pages) if max_pages not in (None, "") else None
        extra_hosts = (*(urlsplit(u).netloc.lower() for u in self.start_urls), *contracts.check_hosts())
        self.rules = UrlRules(self.profile, extra_hosts)
        self.allowed_domains = sorted({host.rsplit(":", 1)[0] for host in self.rules.hosts})
        self.recheck_days = int(recheck_days) if recheck_days not in (None, "") else None
        self.catch_up = False
        self._swept = False
        self.seen_ids: set[str] = set()
        self.blocks = BlockWatch(self.profile.drift.challenge_streak)
        self.blocked: str | None = None  # the stop line once the portal refuses the crawler
        self.walk = ListingWalk(self.rules, max_pages=self.max_pages, page_limit=None)  # from_crawler sets it
        self.failed: list[str] = []
        self._requisites_seen: set[str] = set()
        self.archive: ArchiveRun | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.walk.page_limit = settings.getint("PORTAL_MAX_LISTING_PAGES")
        if settings.getbool("PORTAL_ARCHIVE_ENABLED") and not contracts.checking():
            mode = "full" if spider.full else "incremental"
            spider.archive = ArchiveRun.open(
                settings, spider.profile.ref or spider.profile.name, mode, tuple(sorted(spider.rules.hosts))
            )
            spider.archive.on_failure = spider.archive_failed
            crawler.signals.connect(spider.sweep_catalogue, signal=signals.spider_idle)
            previous_ok = spider.archive.catalogue.previous_walk_complete(spider.archive.run_id)
            spider.catch_up = not spider.full and not previous_ok
            if spider.catch_up:
                spider.logger.info("catch-up walk: the previous run did not end cleanly, every listing page is read")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            request = self._request(self.rules.classify(url), meta={"start": True})
            if request is not None:
                yield request

    def archive_failed(self, message: str) -> None:
        """The writer process died: stop now, since nothing fetched from here on could be kept."""
        self.logger.error("%s: stopping the crawl", message)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_writer_failed"))

    # -- requests ----------------------------------------------------------
    def _request(self, info: UrlInfo, meta: dict[str, Any] | None = None) -> scrapy.Request | None:
        if not self.rules.allowed(info.url):
            return None
        callback: Callable[[Response], Iterator[scrapy.Request] | None] | None
        if info.kind == "article":
            if info.article_id is None or info.article_id in self.seen_ids:
                return None
            self.seen_ids.add(info.article_id)
            callback = self.parse_article
        elif info.kind == "listing":
            callback = self.parse_listing
        elif info.kind == "requisite":
            callback = self.parse_requisite
        else:
            callback = self.parse_listing if (meta or {}).get("start") else None
            if callback is None:
                return None
        meta = {**(meta or {}), "info": info}
        if info.kind == "article":
            meta["handle_httpstatus_list"] = [304, 404, 410]
        return scrapy.Request(
            info.url, callback=callback, errback=self.failed_request, priority=PRIORITY.get(info.kind, 0), meta=meta
        )

    def failed_request(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errback failures
        answered = getattr(failure.value, "response", None)  # an HttpError (403, 429...) carries its response
        if answered is not None and self.refused(answered):
            return
        if failure.check(OutOfScope):
            self.logger.warning("not followed: %s", failure.getErrorMessage())
            return
        self.failed.append(request.url)
        self.logger.error("failed %s: %s", request.url, failure.getErrorMessage())

    # -- listings ----------------------------------------------------------
    def refused(self, response: Response) -> bool:
        """Whether this answer is a wall (a challenge, an empty shell) rather than the portal's page.

        A wall is archived but not read; a run of them (the profile's
        `challenge_streak`) stops the run, politely, with one line.
        """
        if self.blocked is not None:
            return True
        line = self.blocks.see(response)
        if line is None:
            if self.blocks.walled and self.rules.classify(response.url).kind != "article":
                self.failed.append(response.url)  # articles are counted by the writer; this page is retried next run
            return self.blocks.walled
        self.blocked = line
        self.logger.error("%s: stopping the run", line)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="blocked"))
        return True

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """A listing page: its new articles, its requisites and the next page.

        @portal_url /news-and-events.html
        @listing_template
        @returns items 0 0
        @returns requests 11
        """
        if self.refused(response) or not isinstance(response, TextResponse):
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

    def _known(self, ids: list[str]) -> set[str]:
        if self.full or self.archive is None:
            return set()
        return self.archive.catalogue.known_ids([i for i in ids if i])

    def sweep_catalogue(self) -> None:
        """Once the listings are done: re-request catalogued articles they no longer show.

        A full run re-fetches every one; --recheck-days those published recently
        (conditionally). This is how deleted articles are found and marked gone.
        """
        if self._swept or self.archive is None or not (self.full or self.recheck_days is not None):
            return
        self._swept = True
        since = None if self.full else (date.today() - timedelta(days=self.recheck_days or 0)).isoformat()
        scheduled = 0
        for article_id, url, etag, last_modified in self.archive.catalogue.iter_article_urls(since):
            info = self.rules.classify(url)
            if article_id in self.seen_ids or info.article_id != article_id:
                continue
            validators = {} if self.full else {"etag": etag, "last_modified": last_modified}
            request = self._conditional(info, None, validators)
            if request is not None:
                self.crawler.engine.crawl(request)
                scheduled += 1
        if scheduled:
            self.logger.info("re-requesting %d catalogued articles the listings no longer show", scheduled)
            raise DontCloseSpider

    def _recheck(self, ids: list[str]) -> dict[str, dict[str, str | None]]:
        if self.recheck_days is None or self.full or self.archive is None:
            return {}
        since = (date.today() - timedelta(days=self.recheck_days)).isoformat()
        return self.archive.catalogue.recheck_candidates([i for i in ids if i], since)

    def _conditional(
        self, info: UrlInfo, summary: str | None, validators: dict[str, str | None]
    ) -> scrapy.Request | None:
        """A re-fetch of a known article, conditional where the server gave validators."""
        request = self._request(info, {"summary": summary})
        if request is not None:
            if validators.get("etag"):
                request.headers["If-None-Match"] = validators["etag"]
            if validators.get("last_modified"):
                request.headers["If-Modified-Since"] = validators["last_modified"]
        return request

    # -- articles and requisites ---------------------------------------------
    def parse_article(self, response: Response) -> Iterator[scrapy.Request]:
        """The writer process catalogues the page from its capture; here only its requisites are queued.

        A 304 or 404/410 is the writer's to judge too (unchanged, or gone).

        @portal_url /news-events/communal-police-force-be-peoples-firm-support-t9402.html
        @article_fields title published author paragraphs captions images
        @returns items 0 0
        @returns requests 4
        """
        if not self.refused(response) and response.status == 200 and isinstance(response, TextResponse):
            yield from self._requisites(response)

    def _requisites(self, response: TextResponse) -> Iterator[scrapy.Request]:
        """The page's images, stylesheets and scripts not yet requested in this run nor captured before."""
        fresh = list(
            {
                info.url: info for info in requisite_urls(response, self.rules) if info.url not in self._requisites_seen
            }.values()
        )
        self._requisites_seen.update(info.url for info in fresh)
        captured = self.archive.catalogue.captured([i.url for i in fresh]) if self.archive and fresh else set()
        for info in fresh:
            if info.url not in captured:
                request = self._request(info)
                if request is not None:
                    yield request

    def parse_requisite(self, response: Response) -> None:
        """Requisites are archived by the capture extension; only a challenge in their place matters.

        @portal_url /css/style.css
        @returns items 0 0
        @returns requests 0 0
        """
        self.refused(response)

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
        if reason == "blocked":
            status = "blocked"
        walk_complete = status == "ok" and not self.walk.stopped_early
        code = self.archive.close(status, counts, walk_complete, dict(self.walk.signals), self.blocked)
        if code != 0:
            self.logger.error("the archive writer exited with %s", code)
