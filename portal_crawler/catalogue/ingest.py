"""From one archived capture to the catalogue: the one path the crawl's writer and `reindex` share.

`read_page` turns a capture (the entity as stored, still content-encoded) into
a `PageReading`: an article, a listing's summaries, a 304 (unchanged), a
404/410 (gone), or nothing to catalogue. It is pure, so `reindex` runs it in
worker processes. `record_page` then applies a reading to the catalogue, in
capture order. A page is parsed with Scrapy's own response classes whether it
arrives over the network or from a WARC record years later, so a fixed profile
re-extracts old captures exactly as a crawl would. An answer of the portal's
JSON API (`[api]` in the profile) takes the same path: a detail answer is an
article, a listing answer gives summaries, and an HTML page that is only the
app's shell (the profile's `api.shell`) is archived but never an article.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from scrapy.http import TextResponse

from portal_crawler.catalogue.store import Catalogue
from portal_crawler.extraction import api
from portal_crawler.extraction.article import Article
from portal_crawler.extraction.pages import (
    article_item,
    listing_entries,
    listing_template,
    requisite_urls,
    text_response,
)
from portal_crawler.extraction.profile import Profile
from portal_crawler.extraction.selectors import select
from portal_crawler.extraction.urls import ARTICLE_KINDS, LISTING_KINDS, UrlInfo, UrlRules
from portal_crawler.extraction.walls import wall_kind
from portal_crawler.warc.codings import DECODE_LIMIT, decode_entity
from portal_crawler.warc.records import Headers, header

Reading = Literal["article", "listing", "unchanged", "gone", "blocked", "skip", "error"]


@dataclass(frozen=True)
class PageCapture:
    """A catalogued capture of a page: the entity as stored, and where the catalogue has it."""

    url: str
    status: int
    headers: Headers
    entity: bytes
    capture_id: int
    fetched_at: str


@dataclass(frozen=True)
class PageReading:
    """What one capture says, before it touches the catalogue (picklable: reindex's workers return it)."""

    kind: Reading
    capture_id: int
    fetched_at: str
    article_id: str | None = None  # None for an API detail's 304/404 (its URL names no article ID): see url
    url: str | None = None
    article: dict[str, Any] | None = None  # the fields the catalogue stores (`body`, not `paragraphs`)
    summaries: dict[str, str | None] | None = None
    problem: str | None = None
    requisites: tuple[str, ...] = ()  # what an HTML page embeds from the portal, when asked (`requisites=True`)
    wall: str | None = None  # a "blocked" reading: the kind of wall (`extraction.walls.wall_kind`)


def read_page(
    capture: PageCapture,
    info: UrlInfo,
    profile: Profile,
    rules: UrlRules,
    *,
    listing_date: str | None = None,
    limit: int = DECODE_LIMIT,
    requisites: bool = False,
) -> PageReading:
    """Decode (never past `limit` bytes), parse and extract one listing or article capture.

    With `requisites`, an HTML page that is no wall also gives the images,
    stylesheets and scripts it embeds (the crawl's writer answers them back).
    """
    if info.kind in ARTICLE_KINDS and capture.status in (304, 404, 410):
        kind: Reading = "unchanged" if capture.status == 304 else "gone"
        return PageReading(kind, capture.capture_id, capture.fetched_at, info.article_id, url=capture.url)
    if capture.status != 200 or info.kind not in (*ARTICLE_KINDS, *LISTING_KINDS):
        return PageReading("skip", capture.capture_id, capture.fetched_at)
    try:
        body = decode_entity(capture.entity, header(capture.headers, "content-encoding"), limit)
    except ValueError as error:  # corrupt coding, or over the limit (EntityTooLarge): never an article
        return _error(capture, info, f"{capture.url}: {error}")
    if info.kind in ("api_article", "api_listing"):
        return _read_answer(body, capture, info, profile, rules)
    response = text_response(capture.url, capture.status, capture.headers, body)
    if response is None:
        return _error(capture, info, f"not a text page: {capture.url}")
    wall = wall_kind(capture.status, capture.headers, response.text)  # it reads only the page's head
    own_shell = profile.api is not None and bool(select(response.selector.root, profile.api.shell))
    found = tuple(i.url for i in requisite_urls(response, rules)) if requisites and (own_shell or not wall) else ()
    if own_shell:  # the app's shell: its text is the API's, its scripts and styles are requisites all the same
        return PageReading("skip", capture.capture_id, capture.fetched_at, requisites=found)
    if wall is not None:  # archived as it came, never an article or a listing
        return _blocked(capture, info, wall)
    reading = _extract(response, capture, info, profile, rules, listing_date)
    return replace(reading, requisites=found) if found else reading


def _read_answer(body: bytes, capture: PageCapture, info: UrlInfo, profile: Profile, rules: UrlRules) -> PageReading:
    """An API answer: a listing's summaries, or the article of a detail answer."""
    assert profile.api is not None, "API URLs are only classified with an [api] source"
    try:
        document = api.load(body, capture.url)
        if info.kind == "api_listing":
            entries = api.listing_entries(document, profile.api, rules, capture.url, profile.zone)
            summaries = {entry.info.article_id or "": entry.summary for entry in entries}
            return PageReading("listing", capture.capture_id, capture.fetched_at, summaries=summaries)
        article = api.api_article(
            document, capture.url, profile, rules, capture_id=capture.capture_id, fetched_at=capture.fetched_at
        )
    except api.ApiAnswerError as error:
        return _error(capture, info, str(error))
    if not article.keepable:
        return _error(capture, info, f"no title and no text in the API's answer {capture.url}: not catalogued")
    return PageReading("article", capture.capture_id, capture.fetched_at, article.id, article=_stored(article))


def _extract(
    response: TextResponse,
    capture: PageCapture,
    info: UrlInfo,
    profile: Profile,
    rules: UrlRules,
    listing_date: str | None,
) -> PageReading:
    """A listing's summaries, or the article (when it is one worth keeping)."""
    if info.kind == "listing":
        entries = listing_entries(response, listing_template(profile, response), rules)
        summaries = {entry.article_id or "": summary for entry, summary in entries}
        return PageReading("listing", capture.capture_id, capture.fetched_at, summaries=summaries)
    article = article_item(
        response,
        info,
        profile,
        summary=None,
        capture_id=capture.capture_id,
        fetched_at=capture.fetched_at,
        listing_date=listing_date,
    )
    if not article.keepable:
        return _error(capture, info, f"no title and no text in {capture.url}: not catalogued")
    return PageReading("article", capture.capture_id, capture.fetched_at, article.id, article=_stored(article))


def _stored(article: Article) -> dict[str, Any]:
    """The article's fields as the catalogue takes them: `paragraphs` stay out, `body` holds them joined
    (half the text a reading would otherwise carry back from reindex's worker processes)."""
    return {name: value for name, value in vars(article).items() if name != "paragraphs"}


def _blocked(capture: PageCapture, info: UrlInfo, wall: str) -> PageReading:
    problem = f"{capture.url} is a {wall} page, not the portal's: archived, not catalogued"
    return PageReading("blocked", capture.capture_id, capture.fetched_at, info.article_id, problem=problem, wall=wall)


def _error(capture: PageCapture, info: UrlInfo, problem: str) -> PageReading:
    kind: Reading = "error" if info.kind in ARTICLE_KINDS else "skip"
    return PageReading(kind, capture.capture_id, capture.fetched_at, info.article_id, problem=problem)


def record_page(catalogue: Catalogue, reading: PageReading, summary: str | None = None) -> str | None:
    """Apply one reading to the catalogue; the outcome: new, updated, unchanged, gone, error or None.

    An article keeps the summary its listing gave (`summary`; None keeps the one
    catalogued). A 304 touches the article, a 404/410 marks it gone (kept); a
    404 for an article never archived is an error.
    """
    if reading.kind == "article" and reading.article is not None:
        return catalogue.upsert_article({**reading.article, "summary": summary}, reading.capture_id, reading.fetched_at)
    article_id = reading.article_id
    if article_id is None and reading.kind in ("unchanged", "gone") and reading.url:
        article_id = catalogue.article_at(reading.url)  # an API detail URL: the article its last answer was
    if reading.kind == "unchanged" and article_id:
        touched = catalogue.touch_article(article_id, reading.fetched_at, reading.capture_id)
        return "unchanged" if touched else None
    if reading.kind == "gone" and article_id:
        marked = catalogue.mark_gone(article_id, reading.fetched_at, reading.capture_id)
        return "gone" if marked else "error"
    if reading.kind == "gone":
        return "error"
    if reading.kind in ("error", "blocked"):
        return reading.kind
    return None
