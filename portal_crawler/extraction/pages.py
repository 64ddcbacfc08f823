"""What a fetched page yields, shared by the spider and `reindex`.

Both read pages through Scrapy's own response classes, so a page is decoded
and parsed the same way whether it arrives over the network or from a WARC
record years later.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urljoin

from lxml import etree
from scrapy.http import Headers, HtmlResponse, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.selector import Selector
from scrapy.utils.response import get_base_url

from portal_crawler.extraction.article import Article
from portal_crawler.extraction.dates import iso_date
from portal_crawler.extraction.extract import Extraction, extract
from portal_crawler.extraction.profile import ListingTemplate, Profile
from portal_crawler.extraction.selectors import select
from portal_crawler.extraction.urls import UrlInfo, UrlRules

# The only headers Scrapy's response classes read to choose the class and the character encoding
# (responsetypes.from_headers, TextResponse's declared encoding); building the rest costs and says nothing.
TYPE_HEADERS = ("content-type", "content-disposition")
_STRING = etree.XPath("string()")
REQUISITE_SOURCES = "img::attr(src), link[rel~=stylesheet]::attr(href), script::attr(src)"


class ArchivedPage(HtmlResponse):
    """An HTML page read from its capture: Scrapy's HtmlResponse, its tree parsed from the bytes.

    Scrapy's own selector decodes the page to a str, strips it and encodes it to
    UTF-8 again for lxml: a page's response and tree took 0.23 ms that way and
    0.18 ms from the bytes (ad hoc, over 2,005 article pages). parsel's `body=`
    gives lxml the bytes as they are when they are UTF-8, and decodes them first
    otherwise or when they do not decode, so the tree is the one Scrapy builds
    (tests/test_golden.py compares both on every golden page).
    """

    @property
    def selector(self) -> Selector:
        if self._cached_selector is None:
            if not self.body:  # parsel takes no empty body; Scrapy's selector makes it `<html/>`
                return super().selector
            base = get_base_url(self)  # what Scrapy's selector is given too
            self._cached_selector = Selector(body=self.body, encoding=self.encoding, type="html", base_url=base)
        return self._cached_selector


def text_response(url: str, status: int, headers: list[tuple[str, str]], body: bytes) -> TextResponse | None:
    """A decoded body as Scrapy would hand it to a spider (None when it is not text).

    `body` has its Content-Encoding undone already; Scrapy's response classes
    then pick the character encoding exactly as they do during a crawl.
    """
    kept = Headers([(k, v) for k, v in headers if k.lower() in TYPE_HEADERS])
    cls = responsetypes.from_args(headers=kept, url=url, body=body)
    if cls is HtmlResponse:
        cls = ArchivedPage
    response = cls(url=url, status=status, headers=kept, body=body)
    return response if isinstance(response, TextResponse) else None


def listing_template(profile: Profile, response: TextResponse) -> ListingTemplate | None:
    """The first listing template whose signature matches, or None."""
    root = response.selector.root
    return next((t for t in profile.listing_templates if select(root, t.signature)), None)


def _string(found: object) -> str:
    """XPath's string() of what a selector found: an element's text content, a text or attribute value as is."""
    return found if isinstance(found, str) else _STRING(found)


def _items(response: TextResponse, template: ListingTemplate) -> list:
    return select(response.selector.root, template.item)  # compiled XPath, as everywhere: no Selector per match


def entry_links(response: TextResponse, template: ListingTemplate | None) -> Iterator[tuple[etree._Element, str]]:
    """(listing item, absolute URL) of every entry link on a listing page, in page order.

    Without a template, the whole page is the one item and every link an entry link.
    """
    base = get_base_url(response)  # what response.urljoin resolves against (a <base href>, or the URL)
    items = _items(response, template) if template else [response.selector.root]
    link = template.link if template else "a::attr(href)"
    for item in items:
        for href in select(item, link):
            yield item, urljoin(base, href.strip())


def listing_entries(
    response: TextResponse, template: ListingTemplate | None, rules: UrlRules
) -> Iterator[tuple[UrlInfo, str | None]]:
    """(article URL info, summary) for each article a listing page links to."""
    current, summary = None, ""
    for item, url in entry_links(response, template):
        info = rules.classify(url)
        if info.kind == "article" and rules.allowed(info.url):
            if item is not current and template is not None:
                current, summary = item, " ".join(" ".join(_string(n) for n in select(item, template.summary)).split())
            yield info, summary or None


def listing_dates(response: TextResponse, template: ListingTemplate | None, rules: UrlRules) -> dict[str, str]:
    """{article ID: ISO date} for each entry whose listing item prints a date (the template's `date`).

    The crawl passes an entry's date to `article_item`, where it is the
    reference a fallback's date is held to. Without a template, or without a
    `date` selector, nothing is known. A date in no known format is left out.
    """
    if template is None or template.date is None:
        return {}
    found: dict[str, str] = {}
    current, day = None, None
    for item, url in entry_links(response, template):
        if item is not current:
            values = [_string(v) for v in select(item, template.date)]
            current = item
            day = next((d for d in (iso_date(v, template.zone, template.date_formats) for v in values) if d), None)
        if day is not None and (info := rules.classify(url)).kind == "article" and info.article_id:
            found.setdefault(info.article_id, day)
    return found


def article_item(
    response: TextResponse,
    info: UrlInfo,
    profile: Profile,
    *,
    summary: str | None,
    capture_id: int | None,
    fetched_at: str | None,
    listing_date: str | None = None,
) -> Article:
    """The Article item of an article page (`listing_date`: what the listing printed for it, ISO)."""
    extraction = extract(response.selector, response.url, profile, listing_date=listing_date)
    return article_of(extraction, info, summary=summary, capture_id=capture_id, fetched_at=fetched_at)


def article_of(
    extraction: Extraction, info: UrlInfo, *, summary: str | None, capture_id: int | None, fetched_at: str | None
) -> Article:
    """The Article of an extraction (from a page or an API answer) of the article `info` names."""
    return Article(
        id=info.article_id or "",
        url=info.url,
        title=extraction.title,
        published=extraction.published,
        author=extraction.author,
        summary=summary,
        body=extraction.body,
        paragraphs=extraction.paragraphs,
        captions=extraction.captions,
        images=extraction.images,
        section=info.section,
        template=extraction.template,
        quality=extraction.quality,
        problems=extraction.problems,
        capture_id=capture_id,
        fetched_at=fetched_at,
        field_sources=extraction.field_sources,
        profile_revision=extraction.profile_revision,
    )


def requisite_urls(response: TextResponse, rules: UrlRules) -> Iterator[UrlInfo]:
    """Images, stylesheets and scripts the page embeds from the portal's own hosts, each once, in page order."""
    seen: set[str] = set()
    base = get_base_url(response)  # what response.urljoin resolves against (a <base href>, or the URL)
    origin = base[: base.find("/", base.find("//") + 2)] if base.count("/") > 2 else base
    for src in select(response.selector.root, REQUISITE_SOURCES):  # compiled XPath: no Selector per match
        if (src := src.strip()) in seen:
            continue
        seen.add(src)
        # A path from the root resolves the same on every page of the host: the site's own stylesheet,
        # scripts and logo are then classified once, not on each of thousands of pages.
        info = _requisite(rules, origin if src.startswith("/") and not src.startswith("//") else base, src)
        if info is not None:
            yield info


@lru_cache(maxsize=4096)
def _requisite(rules: UrlRules, base: str, src: str) -> UrlInfo | None:
    info = rules.classify(urljoin(base, src))
    return info if info.kind == "requisite" and rules.allowed(info.url) else None
