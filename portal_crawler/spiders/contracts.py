"""Scrapy contracts for the portal spider's callbacks: `scrapy check portal`, against a replica on any port.

Scrapy's `@url` takes an absolute URL, but the replica listens wherever it was
started. `@portal_url PATH` requests PATH on `$PORTAL_CHECK_BASE` (default
`http://127.0.0.1:8080`, where `portal-crawler replica` listens), and the
spider adds that host to its scope during a check (Scrapy sets `SCRAPY_CHECK`
while `scrapy check` runs; the spider then opens no archive run, so nothing is
written). Two contracts hold a page to the profile, so
layout drift fails the check the way it raises the crawl's alarm:

``@listing_template``          a listing template of the profile matches the page;
``@article_fields NAME ...``   an article template matches, and each named field
                               comes from its selector (not a fallback, not empty).

    portal-crawler replica --port 8080 &
    scrapy check portal                     # from the repository root
    PORTAL_CHECK_BASE=http://127.0.0.1:8123 scrapy check portal
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from scrapy.contracts import Contract
from scrapy.http import Response, TextResponse

from portal_crawler.extraction.extract import extract
from portal_crawler.extraction.pages import listing_template
from portal_crawler.extraction.profile import Profile

BASE_ENV = "PORTAL_CHECK_BASE"
DEFAULT_BASE = "http://127.0.0.1:8080"  # `portal-crawler replica`'s default port


def checking() -> bool:
    """Whether this process runs `scrapy check` (Scrapy sets SCRAPY_CHECK while it does)."""
    return bool(os.environ.get("SCRAPY_CHECK"))


def check_base() -> str:
    return os.environ.get(BASE_ENV, DEFAULT_BASE).rstrip("/")


def check_hosts() -> tuple[str, ...]:
    """The host:port the contracts fetch from, during `scrapy check` only (the spider adds it to its scope)."""
    return (urlsplit(check_base()).netloc.lower(),) if checking() else ()


class PortalUrlContract(Contract):
    """@portal_url PATH: the sample request is PATH on $PORTAL_CHECK_BASE."""

    name = "portal_url"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        if len(self.args) != 1 or not str(self.args[0]).startswith("/"):
            raise ValueError("@portal_url takes one path starting with '/'")
        args["url"] = check_base() + self.args[0]
        return args


class _ProfileContract(Contract):
    """A contract that reads the page with the spider's profile."""

    def __init__(self, method: Any, *args: Any) -> None:
        super().__init__(method, *args)
        self.spider = method.__self__  # contracts are made from the spider's bound callbacks

    def profile(self) -> Profile:
        profile: Profile = self.spider.profile
        return profile

    @staticmethod
    def page(response: Response) -> TextResponse:
        assert isinstance(response, TextResponse), f"{response.url} is not a text page"
        return response


class ListingTemplateContract(_ProfileContract):
    """@listing_template: one of the profile's listing templates matches the page."""

    name = "listing_template"

    def pre_process(self, response: Response) -> None:
        page = self.page(response)
        names = ", ".join(t.name for t in self.profile().listing_templates)
        assert listing_template(self.profile(), page) is not None, f"no listing template ({names}) matches {page.url}"


class ArticleFieldsContract(_ProfileContract):
    """@article_fields NAME ...: an article template matches and each named field comes from its selector."""

    name = "article_fields"

    def pre_process(self, response: Response) -> None:
        page = self.page(response)
        extraction = extract(page.selector, page.url, self.profile())
        assert extraction.template != "fallback", f"no article template matches {page.url}"
        degraded = {name: extraction.field_sources.get(name, "none") for name in self.args}
        degraded = {name: source for name, source in degraded.items() if source != "selector"}
        assert not degraded, f"{page.url} (template {extraction.template}): not from the selector: {degraded}"
