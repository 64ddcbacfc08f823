"""The portal spider's walk over the JSON API (the profile's `[api]`): listing answers to detail answers.

The walk is the HTML walk's, through another door: page after page of the
listing answer (from the profile's first page, usually 0), each new item's
detail answer, then the article's own page (the app shell a reader loads, so
the archive holds what a reader saw) and its requisites; an incremental run
stops at the first page that lists nothing new, `--recheck-days` asks known
recent articles' details conditionally. Every request carries the profile's
headers (`Portal-Id`), and the WARC request record keeps them, so a capture
says what chose its answer. An answer that is not JSON, or has no items where
the profile says, is retried once, then counted as a failed listing and kept
for the drift alarm (`api_unreadable`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response

from portal_crawler.crawl import standalone
from portal_crawler.extraction import api
from portal_crawler.extraction.article import Article
from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.spiders.requisites import PageRequisites

API_PRIORITY = {"listing": 0, "article": 20}


class ApiWalk(PageRequisites):
    """The spider's API callbacks."""

    def api_listing_request(self, page: int) -> scrapy.Request:
        source = self.profile.api
        assert source is not None
        url = source.listing_url(page, self.api_base)
        return scrapy.Request(
            url,
            headers=dict(source.headers),
            callback=self.parse_api_listing,
            errback=self.failed_request,
            priority=API_PRIORITY["listing"],
            meta={"info": UrlInfo("api_listing", url, page=page), "api_page": page},
        )

    def api_detail_request(self, entry: api.ApiEntry, validators: dict[str, Any]) -> scrapy.Request:
        """The detail answer of one item (conditional when validators are given)."""
        source = self.profile.api
        assert source is not None
        headers = dict(source.headers)
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        page = entry.info
        self.seen_ids.add(page.article_id or "")
        info = UrlInfo("api_article", entry.detail_url, article_id=page.article_id, section=page.section)
        meta = {"info": info, "summary": entry.summary, "listing_date": entry.listing_date}
        return scrapy.Request(
            entry.detail_url,
            headers=headers,
            callback=self.parse_api_article,
            errback=self.failed_request,
            priority=API_PRIORITY["article"],
            meta={**meta, "handle_httpstatus_list": [304, 404, 410]},
        )

    def _unreadable(self, response: Response, error: Exception) -> Iterator[scrapy.Request]:
        """Retry an unreadable answer once; then count it and keep it for the drift alarm."""
        assert response.request is not None
        retry = get_retry_request(response.request, spider=self, reason="unreadable API answer", max_retry_times=1)
        if retry is not None:
            yield retry
            return
        self.logger.error("%s", error)
        if self.rules.classify(response.url).kind == "api_listing":
            self.record_failure(response.url, "drift: unreadable API answer")  # a detail's: the writer counts it
            self.walk.signals["api_unreadable"].append(response.url)

    def parse_api_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """A listing answer: its new items' details, rechecks, and the next page while it brings news."""
        source = self.profile.api
        if self.refused(response) or source is None:
            return
        try:
            document = api.load(response.body, response.url)
            entries = api.listing_entries(document, source, self.rules, response.url, self.profile.zone)
        except api.ApiAnswerError as error:
            yield from self._unreadable(response, error)
            return
        self.walk.pages += 1
        ids = [entry.info.article_id or "" for entry in entries]
        news = self.walk.brings_news(response.url, ids)
        known, recheck = self._known(ids), self._recheck(ids)
        for entry in entries:
            article_id = entry.info.article_id or ""
            if article_id in self.seen_ids:
                continue
            if article_id not in known:
                yield self.api_detail_request(entry, {})
            elif article_id in recheck:
                yield self.api_detail_request(entry, recheck[article_id])
        # Answers are newest first: once a page holds a known article, the pages after it hold only known ones.
        going_on = self.full or self.catch_up or recheck or not known
        last = api.is_last_page(document, source, entries, None)
        if news and going_on and not last and self.walk.may_go_on(response.url):
            yield self.api_listing_request(response.meta["api_page"] + 1)

    def parse_api_article(self, response: Response) -> Iterator[scrapy.Request | Article]:
        """A detail answer is the writer's to catalogue; here: retry a bad one, then the page and its images.

        With a feed configured, the article is also yielded, as the writer reads it.
        """
        source = self.profile.api
        if self.refused(response) or source is None or response.status != 200:
            return
        try:
            document = api.load(response.body, response.url)
            article_page, images = api.detail_links(document, response.url, self.profile, self.rules)
        except api.ApiAnswerError as error:
            yield from self._unreadable(response, error)
            return
        page = self.rules.classify(article_page.url)
        if source.detail.fetch_page and page.kind == "article" and self.rules.allowed(page.url):
            yield scrapy.Request(
                page.url,
                callback=self.parse_article,
                errback=self.failed_request,
                priority=API_PRIORITY["article"],
                meta={"info": page},
            )
        yield from self._requisite_requests([self.rules.classify(url) for url in images])
        if self.feed_items:  # a feed wants the article itself, as the writer reads it
            article = api.api_article(
                document, response.url, self.profile, self.rules, capture_id=None, fetched_at=None
            )
            if (item := standalone.feed_item(article, response)) is not None:
                yield item
