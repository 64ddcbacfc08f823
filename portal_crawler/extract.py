"""Article fields from a page: profile templates first, the generic fallback second.

`extract(html, url, profile)` is a pure function used by the crawl and by
`reindex` alike, so a fixed profile re-extracts old captures. One bad field
never loses the article: it is recorded as a problem and lowers `quality`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector

from portal_crawler import cleaners
from portal_crawler.profile import ArticleTemplate, Profile

REQUIRED = ("title", "published", "author", "paragraphs")


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
    for template in profile.templates:
        if page.css(template.signature):
            return extract_with(page, url, template, profile.date_formats)
    return extract_fallback(page, url)


def extract_with(page: Selector, url: str, template: ArticleTemplate, date_formats: tuple[str, ...]) -> Extraction:
    result = Extraction(template=template.name)
    result.title = cleaners.text(_values(page, template.title))
    result.published = cleaners.date(_values(page, template.published), date_formats)
    body = page.css(template.body)
    if body:
        _read_body(body[0], url, template, result)
    for name in REQUIRED:
        if not getattr(result, name):
            result.problems.append(f"{name}: not found")
    return result


def _values(page: Selector, selector: str) -> list[str]:
    found = page.css(selector)
    return found.getall() if "::" in selector else found.xpath("string()").getall()


def _read_body(body: Selector, url: str, template: ArticleTemplate, result: Extraction) -> None:
    byline_node = _byline_node(body, template)
    if byline_node is not None:
        result.author = cleaners.byline(cleaners.element_text(byline_node))
    for node in body.css(template.paragraph):
        if node.root is byline_node:
            continue
        paragraph = cleaners.element_text(node.root)
        if paragraph and not any(p.search(paragraph) for p in template.drop_patterns):
            result.paragraphs.append(paragraph)
    result.captions = [c for c in (cleaners.element_text(n.root) for n in body.css(template.caption)) if c]
    result.images = [urljoin(url, src.strip()) for src in body.css(template.images).getall() if src.strip()]


def _byline_node(body: Selector, template: ArticleTemplate) -> etree._Element | None:
    """The byline is recognised by place and markup: the body's last element, matching the byline selector."""
    children = [c for c in body.root if isinstance(c.tag, str) and _has_content(c)]
    if not children:
        return None
    last = children[-1]
    for node in body.css(template.byline):
        if node.root is last:
            return last
    return None


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
    for name in REQUIRED:
        if not getattr(result, name):
            result.problems.append(f"{name}: not found")
    return result
