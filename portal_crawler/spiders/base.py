"""The portal spider's state and the helpers every walk shares: requests, walls, known articles.

`PortalBase` is the bottom of a line of classes, one concern each, that make
`PortalSpider`: this one (state, requests, the wall check, known articles),
`requisites.PageRequisites` (article pages, their requisites, the writer's
answers), `api_source.ApiWalk` (the JSON API walk), `revisits.Revisits`
(the closing sweep) and `portal.PortalSpider` (start, HTML listings, close).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from portal_crawler.crawl.archive_run import ArchiveRun
from portal_crawler.crawl.blocking import BlockWatch
from portal_crawler.crawl.failures import FirstFailure, failure_reason
from portal_crawler.crawl.walk import ListingWalk
from portal_crawler.extraction.article import Article
from portal_crawler.extraction.profile import Profile, load_profile
from portal_crawler.extraction.urls import UrlInfo, UrlRules
from portal_crawler.middlewares import READ_BY_WRITER, OutOfScope
from portal_crawler.spiders import contracts
from portal_crawler.spiders.sources import SOURCES, api_origin

CALLBACKS = (
    "parse_article",
    "parse_listing",
    "parse_requisite",
    "parse_api_listing",
    "parse_api_article",
    "failed_request",
)
WALL_NAMES = {
    "shell": "an empty app shell",
    "challenge": "a bot-wall challenge",
    "incapsula": "an Imperva Incapsula challenge",
    "cloudflare": "a Cloudflare challenge",
}
PRIORITY = {"requisite": 30, "article": 20, "listing": 0}
_TRUE = {"1", "true", "yes", "on"}


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in _TRUE


class PortalBase(scrapy.Spider):
    """State and shared helpers of the portal spider (see the module docstring)."""

    def __init__(
        self,
        profile: str | Profile = "mps",
        start_url: str | Iterable[str] | None = None,
        full: Any = False,
        max_pages: Any = None,
        recheck_days: Any = None,
        source: str = "auto",
        api_base: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        urls = [start_url] if isinstance(start_url, str) else list(start_url or [])
        self.start_urls = [u for s in urls for u in s.split(",") if u] or list(self.profile.start_urls)
        self.full = _flag(full)
        self.max_pages = int(max_pages) if max_pages not in (None, "") else None
        self._choose_source(source, api_base)
        extra_hosts = (
            *(urlsplit(u).netloc.lower() for u in self.start_urls),
            *contracts.check_hosts(),
            *([urlsplit(self.api_base).netloc] if self.api_base else []),
        )
        self.rules = UrlRules(self.profile, extra_hosts)
        self.allowed_domains = sorted({host.rsplit(":", 1)[0] for host in self.rules.hosts})
        self.recheck_days = int(recheck_days) if recheck_days not in (None, "") else None
        self.catch_up = False
        self._swept = False
        self.seen_ids: set[str] = set()
        api = self.profile.api
        self.blocks = BlockWatch(self.profile.drift.challenge_streak, api.shell if api else None)
        self.blocked: str | None = None  # the stop line once the portal refuses the crawler
        self.walk_wall: str | None = None  # the first listing page met with a wall, and what it was
        self.walk = ListingWalk(self.rules, max_pages=self.max_pages, page_limit=None)  # from_crawler sets it
        self.failed: list[str] = []
        self.first_failure: FirstFailure | None = None  # (URL, reason): the cause `crawl` prints (crawl/failures.py)
        self._requisites_seen: set[str] = set()
        self.archive: ArchiveRun | None = None
        self.feed_items = False  # a feed is configured: yield each article read as an item (crawl/standalone.py)
        self._bind_callbacks()

    def _bind_callbacks(self) -> None:
        """One bound method per callback for the run: Scrapy caches its check of a callback (getsource,
        ast.parse) keyed weakly by it, and a bound method made per request dies with the request (the check
        ran again for 1,571 of 10,005 article responses of a 10,000-article crawl, ad hoc count)."""
        for name in CALLBACKS:
            if hasattr(self, name):
                setattr(self, name, getattr(self, name))

    def _choose_source(self, source: str, api_base: str | None) -> None:
        """HTML pages or the JSON API (spiders/sources.py), and where the API is asked."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        api = self.profile.api
        self.source = source if api is not None else "html"
        self.using_api = self.source == "api"  # "auto" decides in start(), or on meeting an app shell
        self.api_base = api_origin(api, self.start_urls, self.profile.hosts, api_base) if api else ""

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """An HTML listing page's callback: the walk's own (PortalSpider defines it)."""
        raise NotImplementedError

    def parse_article(self, response: Response) -> Iterator[scrapy.Request | Article]:
        """An article page's callback (spiders/requisites.py defines it, and `parse_requisite`)."""
        raise NotImplementedError

    def parse_requisite(self, response: Response) -> None:
        raise NotImplementedError

    @property
    def writer_reads_articles(self) -> bool:
        """The archive's writer alone reads HTML article pages (no feed wants them read here too)."""
        return self.archive is not None and not self.feed_items

    def archive_failed(self, message: str) -> None:
        """The writer process died: stop now, since nothing fetched from here on could be kept."""
        self.logger.error("%s: stopping the crawl", message)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_writer_failed"))

    # -- requests ----------------------------------------------------------
    def _request(self, info: UrlInfo, meta: dict[str, Any] | None = None) -> scrapy.Request | None:
        if not self.rules.allowed(info.url):
            return None
        callback: Callable[[Response], Iterator[scrapy.Request | Article] | None] | None
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
            meta[READ_BY_WRITER] = self.writer_reads_articles  # a 200 page stays undecoded here
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
        self.record_failure(request.url, failure_reason(failure))
        self.logger.error("failed %s: %s", request.url, failure.getErrorMessage())

    def record_failure(self, url: str, reason: str) -> None:
        """A fetch that failed for good (retried next run); the run's first is the cause its one line gives."""
        self.failed.append(url)
        if self.first_failure is None:
            self.first_failure = (url, reason)

    # -- listings ----------------------------------------------------------
    def refused(self, response: Response) -> bool:
        """Whether this answer is a wall (a challenge, an empty shell) rather than the portal's page.

        A wall is archived but not read; a run of them (the profile's
        `challenge_streak`) stops the run, politely, with one line. A run whose
        walk never read a listing page because of a wall ends blocked too
        (`walk_wall`, see PortalSpider.closed).
        """
        if self.blocked is not None:
            return True
        if response.status == 200 and response.meta.get(READ_BY_WRITER):
            return False  # the writer checks it, and its answer is counted (PageRequisites.requisites_answered)
        line = self.blocks.see(response)
        kind = self.rules.classify(response.url).kind
        if self.blocks.walled and kind in ("listing", "api_listing") and self.walk_wall is None:
            wall = self.blocks.kinds[-1]
            self.walk_wall = f"{response.url} is {WALL_NAMES.get(wall, 'a ' + wall + ' page')}"
        if line is None:
            if self.blocks.walled and kind != "article":
                wall = WALL_NAMES.get(self.blocks.kinds[-1], "a wall")
                self.record_failure(response.url, f"blocked ({wall})")  # articles are the writer's to count
            return self.blocks.walled
        self.stop_blocked(line)
        return True

    def stop_blocked(self, line: str) -> None:
        """The portal refuses the crawler (`line` says how): stop the run, politely, once."""
        self.blocked = line
        self.logger.error("%s: stopping the run", line)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="blocked"))

    def _known(self, ids: list[str]) -> set[str]:
        if self.full or self.archive is None:
            return set()
        return self.archive.catalogue.known_ids([i for i in ids if i])

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
