"""Downloader middlewares: the run's scope, and retries that back off and honour Retry-After.

`ScopeMiddleware` drops every request outside the run's hosts, compared with
their port: Scrapy's offsite check (`allowed_domains`) compares host names
only, so a redirect or meta refresh to another port of the same host (another
service) would otherwise be fetched and catalogued under the portal's IDs.

Scrapy's RetryMiddleware retries at once; against a struggling portal that is
exactly wrong. `BackoffRetryMiddleware` marks each retry with a delay (doubling
per attempt, at least the server's Retry-After, capped), and
`RetryDelayMiddleware` waits that long before the retry enters the downloader,
so no download slot is held while waiting.

`WriterReadsCompressionMiddleware` is Scrapy's HttpCompressionMiddleware, except
that an article page the archive's writer reads is left as it came (see there);
`WriterReadsMetaRefreshMiddleware` then reads such a page's meta refresh from
the decoded head of the page, as Scrapy's MetaRefreshMiddleware would.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import BaseSettings

from portal_crawler.warc.codings import decode_head


def retry_after_seconds(value: bytes | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            self._mark(result, retry_after_seconds(response.headers.get(b"Retry-After")))
        return result

    def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            self._mark(result, None)
        return result

    def _mark(self, retry: Request, retry_after: float | None) -> None:
        attempt = retry.meta.get("retry_times", 1)
        delay = self.base * 2 ** (attempt - 1)
        if retry_after is not None:
            delay = max(delay, retry_after)
        retry.meta["retry_delay"] = min(delay, self.cap)
        self.crawler.stats.inc_value("retry/backoff_seconds", retry.meta["retry_delay"])


class RetryDelayMiddleware:
    """Waits out a retry's delay before the request reaches the downloader."""

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop("retry_delay", 0)
        if delay:
            await asyncio.sleep(delay)
        return None


READ_BY_WRITER = "portal_read_by_writer"  # request meta: a 200 answer is read by the writer process alone


class WriterReadsCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decoding of Content-Encoding, skipped for a page only the archive's writer reads.

    With an archive, the writer process reads every HTML article page from its
    capture: it decodes, parses and extracts it, checks whether it is a wall,
    and answers what it embeds. The crawl only requests what the writer
    answers and counts the walls it reports. Decoding such a page here as well
    cost the crawl process 0.16 ms a page for nothing (gunzip 0.11 ms, the text
    0.02 ms, the wall check 0.04 ms; ad hoc, over 2,005 pages of a recorded
    crawl). The spider marks those requests with `READ_BY_WRITER` (spiders/base.py);
    any other answer to them (a 304, a 404, a 403 wall) is decoded and checked here as before.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if response.status == 200 and request.meta.get(READ_BY_WRITER):
            return response
        return super().process_response(request, response)


WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 and UTF-32 text: "refresh" is not in its bytes as ASCII


class WriterReadsMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta refresh, also for a page the crawl leaves undecoded (`READ_BY_WRITER`).

    Scrapy's middleware reads the refresh from the page's first 4,096
    characters. On a page left compressed it would decode the gzip bytes as
    text instead: it could never find a refresh there, and the garbage cost the
    crawl 0.19 ms a page (`to_unicode` on binary; py-spy, 10,000 articles). Here
    such a page is inflated only as far as those characters can reach (4 bytes
    each at most, in UTF-8), and Scrapy's own code reads the refresh from that.
    """

    HEAD = 4 * 4096

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if not (response.status == 200 and request.meta.get(READ_BY_WRITER) and isinstance(response, HtmlResponse)):
            return super().process_response(request, response)
        coding = response.headers.get(b"Content-Encoding")
        head = decode_head(response.body, coding.decode("latin-1") if coding else None, self.HEAD)
        if b"refresh" not in head.lower() and not head.startswith(WIDE_BOMS):  # no refresh can be in it
            return response
        headers = response.headers.copy()
        headers.pop(b"Content-Encoding", None)
        stand_in = response.replace(body=head, headers=headers)
        answer = super().process_response(request, stand_in)
        return response if answer is stand_in else answer


class OutOfScope(IgnoreRequest):
    """A request (usually a redirect's target) outside the run's scope: not followed, not a fetch failure."""


class ScopeMiddleware:
    """Refuses any request whose scheme, host and port are not the run's (a redirect's target included)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        rules = getattr(self.crawler.spider, "rules", None)
        if rules is not None and not rules.in_scope(request.url):
            self.crawler.stats.inc_value("portal/out_of_scope")
            raise OutOfScope(f"out of scope (scheme, host and port): {request.url}")
