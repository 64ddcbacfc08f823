"""Article fields from a page: profile templates first, the generic fallback second.

`extract(html, url, profile)` is a pure function used by the crawl and by
`reindex` alike, so a fixed profile re-extracts old captures. One bad field
never loses the article: it is recorded as a problem and lowers `quality`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from portal_crawler.extraction import cleaners
from portal_crawler.extraction.profile import ArticleTemplate, Profile

REQUIRED = ("title", "published", "author", "paragraphs")
_TRANSLATOR = HTMLTranslator()


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

    @property
    def quality(self) -> str:
        if self.template == "fallback":
            return "fallback"
        return "partial" if self.problems else "ok"

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def extract(html: str | Selector, url: str, profile: Profile) -> Extraction:
    """Extract an article; the first template whose signature matches wins."""
    page = html if isinstance(html, Selector) else Selector(text=html)
    root = page.root
    for template in profile.templates:
        if select(root, template.signature):
            return extract_with(root, url, template, profile.date_formats)
    return extract_fallback(page, url)


@lru_cache(maxsize=512)
def compiled(css: str) -> etree.XPath:
    """A CSS selector (parsel dialect: ::text, ::attr(name)) as a compiled XPath, once per selector."""
    return etree.XPath(_TRANSLATOR.css_to_xpath(css))


def select(node: etree._Element, css: str) -> list:
    """Elements, or strings for ::text / ::attr() selectors."""
    return compiled(css)(node)


def _values(node: etree._Element, css: str) -> list[str]:
    return [v if isinstance(v, str) else cleaners.element_text(v) for v in select(node, css)]


def extract_with(
    root: etree._Element, url: str, template: ArticleTemplate, date_formats: tuple[str, ...]
) -> Extraction:
    result = Extraction(template=template.name)
    clean = {name: cleaners.CLEANERS[cleaner] for name, cleaner in template.cleaners.items()}
    result.title = clean["title"](_values(root, template.title), date_formats)
    result.published = clean["published"](_values(root, template.published), date_formats)
    body = select(root, template.body)
    if body:
        _read_body(body[0], url, template, result)
    return _note_missing(result)


def _read_body(body: etree._Element, url: str, template: ArticleTemplate, result: Extraction) -> None:
    byline_node = _byline_node(body, template)
    if byline_node is not None:
        result.author = cleaners.CLEANERS[template.cleaners["author"]]([cleaners.element_text(byline_node)], ())
    for node in select(body, template.paragraph):
        if node is byline_node:
            continue
        paragraph = cleaners.element_text(node)
        if paragraph and not any(p.search(paragraph) for p in template.drop_patterns):
            result.paragraphs.append(paragraph)
    result.captions = [c for c in (cleaners.element_text(n) for n in select(body, template.caption)) if c]
    result.images = [urljoin(url, src.strip()) for src in select(body, template.images) if src.strip()]


def _byline_node(body: etree._Element, template: ArticleTemplate) -> etree._Element | None:
    """The byline is recognised by place and markup: the body's last element, matching the byline selector."""
    last = next((c for c in reversed(body) if isinstance(c.tag, str) and _has_content(c)), None)
    if last is None:
        return None
    return last if any(node is last for node in select(body, template.byline)) else None


def _note_missing(result: Extraction) -> Extraction:
    """Each required field that came out empty becomes a problem (quality `partial`)."""
    result.problems.extend(f"{name}: not found" for name in REQUIRED if not getattr(result, name))
    return result


def _has_content(element: etree._Element) -> bool:
    """False for spacer elements such as <p>&nbsp;</p>."""
    return bool(cleaners.element_text(element)) or element.find(".//img") is not None


def extract_fallback(page: Selector, url: str) -> Extraction:
    """Generic extraction with trafilatura for pages no template matches."""
    import trafilatura  # heavy import, needed only for unknown layouts

    result = Extraction(template="fallback")
    document = trafilatura.bare_extraction(page.get(), url=url, with_metadata=True, include_comments=False)
    if document is None:
        result.problems.append("fallback: no main text found")
        return result
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    result.title = cleaners.text([data.get("title") or ""])
    result.published = cleaners.date([data.get("date") or ""], ("%Y-%m-%d",))
    result.author = cleaners.text([data.get("author") or ""])
    result.paragraphs = [cleaners.fold(line) for line in (data.get("text") or "").split("\n") if line.strip()]
    result.images = [urljoin(url, src) for src in page.css("img::attr(src)").getall()]
    return _note_missing(result)
