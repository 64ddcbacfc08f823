"""Article fields from a page: profile templates first, per-field generic fallbacks second.

`extract(html, url, profile)` is a pure function used by the crawl and by
`reindex` alike, so a fixed profile re-extracts old captures. The first
template whose signature matches reads each field with its selector; a field
its selector leaves empty is asked of the generic sources (`fallback.py`),
and a page no template matches asks them for every field (and is marked
`fallback`). `field_sources` records where each field came from, so a
selector's value can be told from a guess; a date from a guess is held to the
listing's and the ID's date (`dates.py`). One bad field never loses the
article: it is recorded as a problem and lowers `quality`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector

from portal_crawler.extraction import bylines, cleaners, dates, fallback
from portal_crawler.extraction.profile import ArticleTemplate, Profile
from portal_crawler.extraction.selectors import compiled, select
from portal_crawler.extraction.urls import UrlRules

__all__ = [
    "FIELDS",
    "REQUIRED",
    "Extraction",
    "body_images",
    "compiled",
    "extract",
    "note_problems",
    "read_body",
    "select",
]

REQUIRED = ("title", "published", "author", "paragraphs")
FIELDS = ("title", "published", "author", "paragraphs", "captions", "images")


@dataclass
class Extraction:
    template: str
    title: str | None = None
    published: str | None = None
    author: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # per field of FIELDS: "selector", the fallback that gave it ("json-ld", "time", "htmldate", ...), or "none"
    field_sources: dict[str, str] = field(default_factory=dict)
    profile_revision: str | None = None

    @property
    def quality(self) -> str:
        if self.template == "fallback":
            return "fallback"
        return "partial" if self.problems or self.degraded_fields else "ok"

    @property
    def degraded_fields(self) -> list[str]:
        """The fields the profile's selector did not give (a fallback did, or nothing)."""
        return [name for name in FIELDS if self.field_sources.get(name, "none") != "selector"]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def extract(html: str | Selector, url: str, profile: Profile, *, listing_date: str | None = None) -> Extraction:
    """Extract an article; the first template whose signature matches wins.

    `listing_date` is the ISO date the listing page printed for this article, when known.
    """
    page = html if isinstance(html, Selector) else Selector(text=html)
    root = page.root
    template = next((t for t in profile.templates if select(root, t.signature)), None)
    result = Extraction(template=template.name if template else "fallback")
    result.profile_revision = profile.revision(result.template)
    body = extract_with(root, url, template, profile.date_formats, result) if template else None
    known = dates.Known(listing_date, dates.id_date(UrlRules(profile).classify(url).article_id, profile.zone))
    sources = fallback.Sources(root, url, profile.zone, profile.date_formats)
    _fall_back(result, sources, known, body, template, profile)
    return note_problems(result)


def _values(node: etree._Element, css: str) -> list[str]:
    return [v if isinstance(v, str) else cleaners.element_text(v) for v in select(node, css)]


def extract_with(
    root: etree._Element, url: str, template: ArticleTemplate, date_formats: tuple[str, ...], result: Extraction
) -> etree._Element | None:
    """Read each field with the template's selectors into `result`; the body element, when found."""
    clean = {name: cleaners.CLEANERS[cleaner] for name, cleaner in template.cleaners.items()}
    result.title = clean["title"](_values(root, template.title), date_formats)
    result.published = clean["published"](_values(root, template.published), date_formats)
    found = select(root, template.body)
    body = found[0] if found else None
    if body is not None:
        read_body(body, url, template, result)
        result.field_sources |= {"captions": "selector", "images": "selector"}  # a body may have no photos
    for name in REQUIRED:
        if getattr(result, name):
            result.field_sources[name] = "selector"
    return body


def read_body(body: etree._Element, url: str, template: ArticleTemplate, result: Extraction) -> None:
    byline_node = _byline_node(body, template)
    if byline_node is not None:
        result.author = _byline(template, cleaners.element_text(byline_node))
    for node in select(body, template.paragraph):
        if node is byline_node:
            continue
        paragraph = cleaners.element_text(node)
        if paragraph and not any(p.search(paragraph) for p in template.drop_patterns):
            result.paragraphs.append(paragraph)
    result.captions = [c for c in (cleaners.element_text(n) for n in select(body, template.caption)) if c]
    result.images = body_images(body, url, template)


def body_images(body: etree._Element, url: str, template: ArticleTemplate) -> list[str]:
    """The absolute URLs of the images the template's `images` selector finds in the body."""
    return [urljoin(url, src.strip()) for src in select(body, template.images) if src.strip()]


def _byline(template: ArticleTemplate, text: str) -> str | None:
    return cleaners.CLEANERS[template.cleaners["author"]]([text], ())


def _byline_node(body: etree._Element, template: ArticleTemplate) -> etree._Element | None:
    """The byline is recognised by place and markup: the body's last element, matching the byline selector."""
    last = next((c for c in reversed(body) if isinstance(c.tag, str) and bylines.has_content(c)), None)
    if last is None:
        return None
    return last if any(node is last for node in select(body, template.byline)) else None


def _fall_back(
    result: Extraction,
    sources: fallback.Sources,
    known: dates.Known,
    body: etree._Element | None,
    template: ArticleTemplate | None,
    profile: Profile,
) -> None:
    """Ask the generic sources for each field the selectors left empty (every field without a template)."""
    if not result.paragraphs:  # first: the full reading it needs also serves title and author
        drop = (pattern for t in profile.templates for pattern in t.drop_patterns)
        _take(result, "paragraphs", fallback.paragraphs(sources, drop))
    if not result.title:
        _take(result, "title", fallback.title(sources))
    _settle_date(result, sources, known)
    bylined = _byline_rule(result, sources, body, template, profile)
    if not result.author:
        _take(result, "author", fallback.author(sources, bylined))
    if body is None:
        _take(result, "captions", fallback.captions(sources))
        _take(result, "images", fallback.images(sources))


def _take(result: Extraction, name: str, found: fallback.Found) -> None:
    if found is None:
        result.field_sources[name] = "none"
        return
    setattr(result, name, found[0])
    result.field_sources[name] = found[1]


def _settle_date(result: Extraction, sources: fallback.Sources, known: dates.Known) -> None:
    found = (result.published, "selector") if result.published else fallback.published(sources)
    result.published, result.field_sources["published"], problems = dates.settle(found, known)
    result.problems.extend(problems)


def _byline_rule(
    result: Extraction,
    sources: fallback.Sources,
    body: etree._Element | None,
    template: ArticleTemplate | None,
    profile: Profile,
) -> str | None:
    """The author by the byline rule when the selector found none; its line leaves the paragraphs."""
    if result.author:
        return None
    if body is not None and template is not None:
        node = bylines.in_body(body, template, result.captions)
        if node is None:
            return None
        text = cleaners.element_text(node)
        if result.paragraphs and result.paragraphs[-1] == text:
            result.paragraphs.pop()
        return _byline(template, text)
    main = fallback.main_text(sources) if result.field_sources.get("paragraphs") == "trafilatura" else None
    last = bylines.in_paragraphs(main, result.paragraphs, profile.templates) if main is not None else None
    if last is None:
        return None
    result.paragraphs.pop()
    return cleaners.byline(last)


def note_problems(result: Extraction) -> Extraction:
    """A required field that stayed empty is a problem; on a template's page, so is one a fallback gave."""
    for name in REQUIRED:
        source = result.field_sources.get(name, "none")
        if source == "none":
            result.problems.append(f"{name}: not found")
        elif source != "selector" and result.template != "fallback":
            result.problems.append(f"{name}: the selector found nothing; taken from {source}")
    return result
