"""A profile's JSON API source (`[api]`): where the 2025+ portal's front end gets its articles.

Everything about the API is data, like the selectors: the endpoints, the
query parameters and how a page number maps onto them, the request headers
that choose the content tree (`Portal-Id`), and JMESPath expressions (the
maintained `jmespath` library, compiled here) for where the items are in an
answer and where each field is. Loading compiles every expression and names
the file, key and expression at fault, so a typo never reaches a crawl. The
article's body HTML is read with the same paragraph, caption, byline and drop
rules as a page's body (an `ArticleTemplate` named "api").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import jmespath
from jmespath.exceptions import JMESPathError

from portal_crawler.extraction.profile_reader import DEFAULT_CLEANERS, ArticleTemplate, Reader

if TYPE_CHECKING:
    from jmespath.parser import ParsedResult

PAGE = "{page}"  # the placeholder of the page number among the listing's parameters
API_ID = "{id}"  # the placeholder of the item's ID in the detail path


@dataclass(frozen=True)
class JsonPath:
    """A compiled JMESPath expression, with its text (for messages and the profile revision)."""

    text: str
    parsed: ParsedResult

    def find(self, document: Any) -> Any:
        return self.parsed.search(document)


@dataclass(frozen=True)
class ApiListing:
    path: str
    params: tuple[tuple[str, str], ...]  # in order; one value is PAGE
    first_page: int
    items: JsonPath
    id: JsonPath
    url: JsonPath
    title: JsonPath
    published: JsonPath
    summary: JsonPath
    last: JsonPath | None  # true on the last page; without it, a page with fewer items than asked ends the walk

    def query(self, page: int) -> str:
        return urlencode([(k, str(page) if v == PAGE else v) for k, v in self.params])


@dataclass(frozen=True)
class ApiDetail:
    path: str  # with API_ID
    data: JsonPath  # where the article is in the answer
    title: JsonPath
    published: JsonPath
    author: JsonPath | None
    url: JsonPath
    body: JsonPath  # the body HTML
    images: JsonPath | None  # image URLs; without it (or when empty) the body's images
    captions: JsonPath | None  # captions; without it (or when empty) the body's
    body_rules: ArticleTemplate  # paragraph, caption, byline, images, drop_patterns for the body HTML
    fetch_page: bool  # also fetch the article's own page (what a reader saw) and its requisites

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        head, _, tail = self.path.partition(API_ID)
        return re.compile(f"^{re.escape(head)}(?P<api_id>[^/?#]+){re.escape(tail)}$")


@dataclass(frozen=True)
class ApiSource:
    base: str  # scheme://host of the API (moved to the start URL's host when that is not the profile's)
    site: str  # scheme://host that relative article URLs in answers are joined to
    headers: tuple[tuple[str, str], ...]
    shell: str  # CSS: an HTML page with this is an app shell, whose text comes from the API
    listing: ApiListing
    detail: ApiDetail

    def rules_text(self) -> dict[str, Any]:
        """What the "api" template extracts with (for Profile.revision)."""
        d = self.detail
        paths = {name: getattr(d, name) for name in ("data", "title", "published", "author", "url", "body")}
        paths |= {"images": d.images, "captions": d.captions}
        rules = d.body_rules
        return {
            **{name: path.text if path else None for name, path in paths.items()},
            **{name: getattr(rules, name) for name in ("paragraph", "caption", "byline", "images")},
            "drop_patterns": [p.pattern for p in rules.drop_patterns],
        }

    def listing_url(self, page: int, base: str | None = None) -> str:
        return f"{base or self.base}{self.listing.path}?{self.listing.query(page)}"

    def detail_url(self, api_id: str, base: str | None = None) -> str:
        return f"{base or self.base}{self.detail.path.replace(API_ID, api_id)}"


LISTING_DEFAULTS = {"id": "id", "url": "url", "title": "title", "published": "publishedAt", "summary": "summary"}
DETAIL_DEFAULTS = {"data": "data", "title": "title", "published": "publishedAt", "url": "url", "body": "content"}


def _path(r: Reader, table: dict[str, Any], key: str, path: str, default: str | None = None) -> JsonPath | None:
    text = r.get(table, key, path, str, default)
    if text is None:
        return None
    try:
        return JsonPath(text, jmespath.compile(text))
    except JMESPathError as exc:
        reason = " ".join(str(exc).split())
        raise r.fail(path, f"bad JMESPath expression {text!r}: {reason}") from None


def _origin(r: Reader, table: dict[str, Any], key: str, path: str) -> str:
    value = r.get(table, key, path, str)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise r.fail(path, f"expected scheme://host[:port] with no path, got {value!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _listing(r: Reader, t: dict[str, Any]) -> ApiListing:
    params = r.get(t, "params", "api.listing.params", dict)
    if not all(isinstance(v, str) for v in params.values()):
        raise r.fail("api.listing.params", "expected string values")
    if list(params.values()).count(PAGE) != 1:
        raise r.fail("api.listing.params", f"exactly one parameter must be {PAGE!r} (the page number)")
    paths = {k: _path(r, t, k, f"api.listing.{k}", v) for k, v in LISTING_DEFAULTS.items()}
    return ApiListing(
        path=r.get(t, "path", "api.listing.path", str),
        params=tuple(params.items()),
        first_page=r.get(t, "first_page", "api.listing.first_page", int, 0),
        items=_path(r, t, "items", "api.listing.items"),  # type: ignore[arg-type]  # required: never None
        last=_path(r, t, "last", "api.listing.last"),
        **paths,  # type: ignore[arg-type]  # each has a default: never None
    )


def _detail(r: Reader, t: dict[str, Any]) -> ApiDetail:
    path = r.get(t, "path", "api.detail.path", str)
    if path.count(API_ID) != 1:
        raise r.fail("api.detail.path", f"expected one {API_ID!r} (the item's ID), got {path!r}")
    rules = ArticleTemplate(
        name="api",
        signature="body",
        title="title",
        published="time",
        body="body",
        paragraph=r.selector(t, "paragraph", "api.detail.paragraph", "p"),
        caption=r.selector(t, "caption", "api.detail.caption", "figure figcaption"),
        byline=r.selector(t, "byline", "api.detail.byline", "p.author"),
        images=r.selector(t, "body_images", "api.detail.body_images", "img::attr(src)"),
        drop_patterns=r.regexes(t, "drop_patterns", "api.detail.drop_patterns", []),
        cleaners=dict(DEFAULT_CLEANERS),
    )
    paths = {k: _path(r, t, k, f"api.detail.{k}", v) for k, v in DETAIL_DEFAULTS.items()}
    optional = {k: _path(r, t, k, f"api.detail.{k}") for k in ("author", "images", "captions")}
    fetch_page = r.get(t, "fetch_page", "api.detail.fetch_page", bool, True)
    return ApiDetail(path=path, body_rules=rules, fetch_page=fetch_page, **paths, **optional)  # type: ignore[arg-type]


def parse_api(r: Reader, data: dict[str, Any]) -> ApiSource | None:
    """The `[api]` table, validated; None when the profile has none (an HTML-only site)."""
    if "api" not in data:
        return None
    t = r.get(data, "api", "api", dict)
    headers = r.get(t, "headers", "api.headers", dict, {})
    if not all(isinstance(v, str) for v in headers.values()):
        raise r.fail("api.headers", "expected string values")
    base = _origin(r, t, "base", "api.base")
    return ApiSource(
        base=base,
        site=_origin(r, t, "site", "api.site") if "site" in t else base,
        headers=tuple(headers.items()),
        shell=r.selector(t, "shell", "api.shell"),
        listing=_listing(r, r.get(t, "listing", "api.listing", dict)),
        detail=_detail(r, r.get(t, "detail", "api.detail", dict)),
    )
