"""What a URL is to the crawler (listing page, article, page requisite) and its canonical form.

Listing URLs keep only the last page number, so the portal's pager trap
(`?Page=2&Page=3&Page=2`) cannot grow the frontier. Article URLs are
canonicalised by article ID: slug, query string and host alias do not matter.
With an `[api]` source, the API's listing and detail endpoints (on any host
in scope: the API may be moved to a replica's or a mirror's host) are
`api_listing` and `api_article` URLs, kept exactly as requested: the query
string is what chose the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from portal_crawler.extraction.profile import Profile

Kind = Literal["listing", "article", "requisite", "api_listing", "api_article", "other"]
ARTICLE_KINDS = ("article", "api_article")  # URLs whose answers are articles (a page, an API detail)
LISTING_KINDS = ("listing", "api_listing")
ARTICLE_STATUSES = (200, 304, 404, 410)  # the statuses an article URL answers for; others are fetch faults


@dataclass(frozen=True)
class UrlInfo:
    kind: Kind
    url: str  # canonical URL to request
    article_id: str | None = None
    section: str | None = None
    page: int | None = None


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, the host in lower case."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


class UrlRules:
    """The profile's URL patterns applied to absolute URLs."""

    def __init__(self, profile: Profile, extra_hosts: tuple[str, ...] = ()) -> None:
        self.patterns = profile.urls
        self.api = profile.api
        self.hosts = frozenset(h.lower() for h in (*profile.hosts, *extra_hosts))

    def in_scope(self, url: str) -> bool:
        """True for http(s) URLs whose host AND port are the profile's or a start URL's (redirects included)."""
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.netloc.lower() in self.hosts

    def allowed(self, url: str) -> bool:
        """True for http(s) URLs on the profile's hosts that no deny pattern matches."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in self.hosts:
            return False
        return not any(p.search(parts.path) for p in self.patterns.deny)

    def classify(self, url: str) -> UrlInfo:
        parts = urlsplit(url)
        if self.api is not None:
            if parts.path == self.api.listing.path:
                return UrlInfo("api_listing", urlunsplit(parts._replace(fragment="")))
            if self.api.detail.pattern.match(parts.path):
                return UrlInfo("api_article", urlunsplit(parts._replace(fragment="")))
        article = self._article(parts)
        if article is not None:
            return article
        if any(p.search(parts.path) for p in self.patterns.listing):
            page = self._page(parts.query)
            return UrlInfo("listing", self._listing_url(parts, page), page=page)
        if any(p.search(parts.path.lower()) for p in self.patterns.requisite):
            return UrlInfo("requisite", urlunsplit(parts._replace(fragment="")))
        return UrlInfo("other", urlunsplit(parts._replace(fragment="")))

    def _article(self, parts) -> UrlInfo | None:
        for pattern in self.patterns.article:
            match = pattern.search(parts.path)
            if match:
                section = match.groupdict().get("section") or self.patterns.default_section
                url = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, "", ""))
                return UrlInfo("article", url, article_id=match.group("id"), section=section)
        param = self.patterns.id_query_param
        if param:
            values = [v for k, v in parse_qsl(parts.query) if k.lower() == param.lower()]
            if values and values[-1].isdigit():
                url = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, urlencode({param: values[-1]}), ""))
                article_id = self.patterns.id_query_prefix + values[-1]
                return UrlInfo("article", url, article_id=article_id, section=self.patterns.default_section)
        return None

    def _page(self, query: str) -> int:
        values = [v for k, v in parse_qsl(query) if k == self.patterns.page_param]
        try:
            return max(1, int(values[-1])) if values else 1
        except ValueError:
            return 1

    def _listing_url(self, parts, page: int) -> str:
        query = "" if page == 1 else urlencode({self.patterns.page_param: page})
        return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, query, ""))

    def listing_page(self, url: str, page: int) -> str:
        """The canonical URL of page `page` of the listing `url` belongs to."""
        return self._listing_url(urlsplit(url), page)
