"""Per-field fallbacks: when a selector finds nothing, the generic sources are asked for that field.

Each field has its own chain of sources, asked in order until one answers:

- title: JSON-LD, microdata, OpenGraph, `<meta>`, trafilatura;
- published: JSON-LD, microdata, OpenGraph, `<meta>`, `<time datetime>`, htmldate
  (then held to the listing's and the ID's date, see `dates.py`);
- author: JSON-LD, microdata, OpenGraph, `<meta>`, the profile's byline rule
  (`bylines.py`), trafilatura;
- paragraphs, captions, images: trafilatura (images also JSON-LD, microdata, OpenGraph).

`Sources` makes each generic reading at most once per page and only when a
field first needs it: a page whose selectors all answer costs nothing here.
Lists, asides, navigation and footers are cut from the page htmldate reads,
so it cannot take a date from the "Other news" list, and a date it gives is
kept only when the page prints it the way the profile says the portal prints
dates (htmldate turns a bare "2020" into 2020-01-01).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import cached_property
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from portal_crawler.extraction import dates
from portal_crawler.extraction.cleaners import element_text, fold
from portal_crawler.extraction.structured import Declared, declared

Found = tuple[Any, str] | None  # (value, source), or None when the source had nothing
PRUNE = etree.XPath("//li|//aside|//nav|//footer|//script|//style|//noscript|//img")
OUTSIDE = "not(ancestor::li) and not(ancestor::aside) and not(ancestor::nav) and not(ancestor::footer)"
TIMES = etree.XPath(f"//time[@datetime][{OUTSIDE}]/@datetime")
PARAGRAPHS = etree.XPath(".//p[not(ancestor::list) and not(ancestor::table)]")
GRAPHICS = etree.XPath(".//graphic")
_LOWER = "translate(., 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_NAMES = ("author", "byl", "username", "screenname", "writer", "submitted-by", "posted-by", "journalist", "zuozhe")
# The markup trafilatura's author search looks for (its AUTHOR_XPATHS, without their regular expressions):
# without any, it could only repeat the <meta> and JSON-LD authors already asked, at ~3 ms a page.
AUTHOR_MARKUP = etree.XPath(
    "boolean(//author | //@rel[. = 'author' or . = 'me'] | //@itemprop[contains(., 'author')]"
    " | //@data-component[contains(., 'Byline')] | //@data-testid[contains(., 'Author')]"
    " | (//@class | //@id)[" + " or ".join(f"contains({_LOWER}, '{n}')" for n in _NAMES) + "])"
)


class Sources:
    """The generic readings of one page, each made when a field first asks for it."""

    def __init__(self, root: etree._Element, url: str, zone: str, formats: tuple[str, ...]) -> None:
        self.root, self.url, self.zone, self.formats = root, url, zone, formats

    @cached_property
    def declared(self) -> list[Declared]:
        return declared(self.root, self.url)

    @cached_property
    def document(self) -> Any:
        """trafilatura's reading of the whole page (main text, images, metadata), or None."""
        import trafilatura  # heavy import, needed only when a field falls back

        return trafilatura.bare_extraction(
            copy.deepcopy(self.root), url=self.url, with_metadata=True, include_comments=False, include_images=True
        )

    @cached_property
    def metadata(self) -> Any:
        """trafilatura's metadata alone (title, author): a third of the full reading's cost."""
        if "document" in self.__dict__:
            return self.document
        from trafilatura.metadata import extract_metadata

        return extract_metadata(copy.deepcopy(self.root), default_url=self.url)

    @cached_property
    def pruned(self) -> etree._Element:
        """The page without lists, asides, navigation, footers, scripts and images."""
        tree = copy.deepcopy(self.root)
        for element in PRUNE(tree):
            element.drop_tree()
        return tree

    def time_date(self) -> str | None:
        """The first `<time datetime>` outside lists (the "Other news" list has its own)."""
        return next((d for d in (dates.iso_date(v, self.zone) for v in TIMES(self.root)) if d), None)

    def htmldate(self) -> str | None:
        """htmldate on the pruned page, kept only when the page prints that day in a profile format."""
        import htmldate

        found = htmldate.find_date(copy.deepcopy(self.pruned), outputformat="%Y-%m-%d")
        if not found:
            return None
        text = fold(self.pruned.text_content())
        return found if any(form in text for form in dates.printed(found, self.formats)) else None


def title(sources: Sources) -> Found:
    for source in sources.declared:
        if source.title:
            return source.title, source.source
    value = fold(getattr(sources.metadata, "title", None) or "")
    return (value, "trafilatura") if value else None


def published(sources: Sources) -> Found:
    """The first date a generic source gives (still to be held to the references)."""
    for source in sources.declared:
        value = dates.iso_date(source.published, sources.zone, sources.formats)
        if value:
            return value, source.source
    value = sources.time_date()
    if value:
        return value, "time"
    value = sources.htmldate()
    return (value, "htmldate") if value else None


def author(sources: Sources, bylined: str | None) -> Found:
    """Declared authors first, then the byline the profile's rule found, then trafilatura's guess."""
    for source in sources.declared:
        if source.author:
            return source.author, source.source
    if bylined:
        return bylined, "byline-rule"
    if "document" not in sources.__dict__ and not AUTHOR_MARKUP(sources.root):
        return None
    value = fold(getattr(sources.metadata, "author", None) or "")
    return (value, "trafilatura") if value else None


def main_text(sources: Sources) -> etree._Element | None:
    """trafilatura's main-text tree (`<p>`, `<graphic>`, `<head>`, ...), or None."""
    document = sources.document
    return getattr(document, "body", None) if document is not None else None


def paragraphs(sources: Sources, drop: Iterable[re.Pattern[str]] = ()) -> Found:
    """trafilatura's paragraphs, without headings, lists, tables, photo captions (and lines repeating
    one) and lines the profile says are never body text (`drop`: its templates' drop patterns)."""
    body = main_text(sources)
    if body is None:
        return None
    found, drop = _captions(body), tuple(drop)
    taken, repeated = {id(element) for element, _ in found}, {text for _, text in found}
    texts = [element_text(p) for p in PARAGRAPHS(body) if id(p) not in taken]
    kept = [t for t in texts if t and t not in repeated and not any(p.search(t) for p in drop)]
    return (kept, "trafilatura") if kept else None


def captions(sources: Sources) -> Found:
    body = main_text(sources)
    found = [text for _, text in _captions(body)] if body is not None else []
    return (found, "trafilatura") if found else None


def _captions(body: etree._Element) -> list[tuple[etree._Element, str]]:
    """Photo captions in trafilatura's tree, in page order, each once: an image's title or alt text, a
    paragraph whose class names a caption (WordPress's `wp-caption-text`), the text cell of a table that
    holds one photo (the legacy layout's photo table)."""
    found: list[tuple[etree._Element, str]] = []
    for element in body.iter("graphic", "p", "cell"):
        text = _caption_text(element)
        if text and (not found or found[-1][1] != text):
            found.append((element, text))
    return found


def _caption_text(element: etree._Element) -> str | None:
    if element.tag == "graphic":
        return fold(element.get("title") or element.get("alt") or "") or None
    if element.tag == "p":
        return element_text(element) or None if "caption" in (element.get("class") or "").lower() else None
    table = next(element.iterancestors("table"), None)
    if table is None or GRAPHICS(element) or len(GRAPHICS(table)) != 1:
        return None
    return element_text(element) or None


def images(sources: Sources) -> Found:
    body = main_text(sources)
    srcs = [str(g.get("src") or "").strip() for g in GRAPHICS(body)] if body is not None else []
    found = [urljoin(sources.url, src) for src in srcs if src]
    if found:
        return found, "trafilatura"
    for source in sources.declared:
        if source.images:
            return [urljoin(sources.url, src) for src in source.images], source.source
    return None
