"""What the portal's JSON API answers say: a listing page's entries, an article from its detail answer.

Pure functions, shared by the spider (which walks the listing answers), the
writer and `reindex` (which catalogue the detail answers), so an article
comes out of an archived answer exactly as it did during the crawl. Every
path is the profile's (`api_profile.py`). The body HTML is read with the same
rules as a page's body (`extract.read_body`), and a field the profile's path
does not find is a problem, as a selector's is, so drift in the API's field
names raises the same alarm as drift in a page's markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from portal_crawler.extraction import cleaners, dates
from portal_crawler.extraction.api_profile import ApiSource
from portal_crawler.extraction.article import Article
from portal_crawler.extraction.extract import REQUIRED, Extraction, body_images, note_problems, read_body
from portal_crawler.extraction.pages import article_of
from portal_crawler.extraction.profile import Profile
from portal_crawler.extraction.urls import UrlInfo, UrlRules, origin


class ApiAnswerError(ValueError):
    """An API answer that is not what the profile says (not JSON, no items where they should be)."""


@dataclass(frozen=True)
class ApiEntry:
    """One item of a listing answer: the article it is, where its detail is, and what the listing said."""

    info: UrlInfo  # the article's page (kind "article", with its catalogue ID)
    detail_url: str
    summary: str | None
    listing_date: str | None


def load(body: bytes, url: str) -> Any:
    """The answer's JSON document; ApiAnswerError when it is not JSON (a wall, an error page)."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        head = " ".join(body[:60].decode("utf-8", "replace").split())
        raise ApiAnswerError(f"{url}: the API answered with something that is not JSON ({head!r}...)") from None


def page_base(api: ApiSource, api_url: str) -> str:
    """What relative article URLs in an answer from `api_url` are joined to.

    The profile's `site` when the answer came from the profile's API host; the
    answer's own host when the API was moved (a replica, a mirror), since
    such a host serves the pages too. Decided from the URL alone, so reindex
    joins exactly as the crawl did.
    """
    answered = origin(api_url)
    return api.site if answered == api.base else answered


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return cleaners.fold(str(value)) or None


def _article_info(api: ApiSource, rules: UrlRules, api_url: str, url: Any, api_id: str) -> UrlInfo:
    """The article an item or detail stands for: its page URL's ID by the profile's patterns, else api-<ID>."""
    page = urljoin(page_base(api, api_url), str(url)) if _text(url) else ""
    info = rules.classify(page) if page else None
    if info is not None and info.kind == "article" and info.article_id:
        return info
    return UrlInfo("article", page or api.detail_url(api_id, page_base(api, api_url)), article_id=f"api-{api_id}")


def listing_entries(document: Any, api: ApiSource, rules: UrlRules, url: str, zone: str) -> list[ApiEntry]:
    """The entries of one listing answer, in its order; ApiAnswerError when its items are not where expected."""
    listing = api.listing
    items = listing.items.find(document)
    if not isinstance(items, list):
        raise ApiAnswerError(f"{url}: no list of items at {listing.items.text!r} in the API's answer")
    base = origin(url)
    entries = []
    for item in items:
        api_id = _text(listing.id.find(item)) if isinstance(item, dict) else None
        if api_id is None:
            continue
        info = _article_info(api, rules, url, listing.url.find(item), api_id)
        day = dates.iso_date(_text(listing.published.find(item)), zone)
        summary = _text(listing.summary.find(item))
        entries.append(ApiEntry(info, api.detail_url(api_id, base), summary, day))
    return entries


def is_last_page(document: Any, api: ApiSource, entries: list[ApiEntry], size: int | None) -> bool:
    """The answer's own last-page flag; without one, an empty page (or one shorter than `size`)."""
    if api.listing.last is not None:
        flag = api.listing.last.find(document)
        if isinstance(flag, bool):
            return flag
    return not entries or (size is not None and len(entries) < size)


def _strings(value: Any) -> list[str]:
    return [s for s in (_text(v) for v in value) if s] if isinstance(value, list) else []


def _body(fields: dict[str, Any], profile: Profile) -> Any:
    """The body HTML's element, parsed as a page is (parsel's lxml HTML parser); None without a body."""
    html = profile.api.detail.body.find(fields)  # type: ignore[union-attr]  # only called with an API source
    if not isinstance(html, str) or not html.strip():
        return None
    return Selector(text=f"<html><body>{html}</body></html>").root.find("body")


def _json_images(fields: dict[str, Any], profile: Profile, page_url: str) -> list[str]:
    detail = profile.api.detail  # type: ignore[union-attr]  # only called with an API source
    return [urljoin(page_url, src) for src in _strings(detail.images.find(fields))] if detail.images else []


def _read(fields: dict[str, Any], page_url: str, profile: Profile, result: Extraction) -> None:
    """Fields from the detail answer by the profile's paths, and the body HTML by its body rules."""
    detail = profile.api.detail  # type: ignore[union-attr]  # only called with an API source
    result.title = _text(detail.title.find(fields))
    result.published = dates.iso_date(_text(detail.published.find(fields)), profile.zone, profile.date_formats)
    body = _body(fields, profile)
    if body is not None:
        read_body(body, page_url, detail.body_rules, result)
    named = cleaners.byline(_text(detail.author.find(fields)) or "") if detail.author else None
    result.author = named or result.author  # the answer's author field first, then a byline in the body
    captions = _strings(detail.captions.find(fields)) if detail.captions else []
    result.images = _json_images(fields, profile, page_url) or result.images
    result.captions = captions or result.captions
    for name in REQUIRED:
        result.field_sources[name] = "selector" if getattr(result, name) else "none"
    result.field_sources |= {"captions": "selector", "images": "selector"}  # an article may have no photos


def _fields(document: Any, url: str, api: ApiSource) -> dict[str, Any]:
    fields = api.detail.data.find(document)
    if not isinstance(fields, dict):
        raise ApiAnswerError(f"{url}: no article at {api.detail.data.text!r} in the API's answer")
    return fields


def _detail_info(fields: dict[str, Any], url: str, api: ApiSource, rules: UrlRules) -> UrlInfo:
    match = api.detail.pattern.match(urlsplit(url).path)
    return _article_info(api, rules, url, api.detail.url.find(fields), match.group("api_id") if match else "")


def detail_links(document: Any, url: str, profile: Profile, rules: UrlRules) -> tuple[UrlInfo, list[str]]:
    """What the crawl follows from a detail answer: the article's page and its images, as `api_article` has them.

    The body HTML is parsed only when the answer lists no images by the
    profile's path (the writer extracts the article; the crawl needs links).
    """
    api = profile.api
    assert api is not None, "detail_links needs a profile with an [api] source"
    fields = _fields(document, url, api)
    page = _detail_info(fields, url, api, rules)
    images = _json_images(fields, profile, page.url)
    if not images and (body := _body(fields, profile)) is not None:
        images = body_images(body, page.url, api.detail.body_rules)
    return page, images


def api_article(
    document: Any, url: str, profile: Profile, rules: UrlRules, *, capture_id: int | None, fetched_at: str | None
) -> Article:
    """The Article of one detail answer from `url`; ApiAnswerError when the article is not where expected.

    "selector" in `field_sources` means the profile's own rule gave the field
    (its JMESPath here, as its CSS selector on a page).
    """
    api = profile.api
    assert api is not None, "api_article needs a profile with an [api] source"
    fields = _fields(document, url, api)
    info = _detail_info(fields, url, api, rules)
    result = Extraction(template="api", profile_revision=profile.revision("api"))
    _read(fields, info.url, profile, result)
    known = dates.Known(None, dates.id_date(info.article_id, profile.zone))
    result.published, result.field_sources["published"], problems = dates.settle(
        (result.published, "selector") if result.published else None, known
    )
    result.problems.extend(problems)
    note_problems(result)
    return article_of(result, info, summary=None, capture_id=capture_id, fetched_at=fetched_at)
