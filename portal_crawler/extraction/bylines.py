"""The byline rule beyond the selector: the body's last line, recognised by place and markup.

PORTAL.md: the byline is the last line of the body and is recognised by its
place and markup, not by the word "by". The profile's selector looks at the
body's last child only; a redesign can wrap the body in new elements (the
byline is then the last line of the innermost wrapper) or print the byline
in new markup (`<span class="author">`). This rule finds the last line
through wrappers and takes it as the byline when it is short and either the
profile's byline markup, or markup unlike the profile's paragraphs, or a
line that opens with "by". A last line that is an ordinary paragraph (an
article without byline) is never taken.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from portal_crawler.extraction.cleaners import element_text
from portal_crawler.extraction.profile import ArticleTemplate
from portal_crawler.extraction.selectors import matches

MAX_CHARS = 60
MAX_WORDS = 6
WRAPPERS = frozenset({"div", "section", "article", "main"})
BY = re.compile(r"^by\b", re.IGNORECASE)


def short(text: str) -> bool:
    """A name or a desk, not a sentence."""
    return 0 < len(text) <= MAX_CHARS and len(text.split()) <= MAX_WORDS and not text.endswith((".", "!", "?", ":"))


def has_content(element: etree._Element) -> bool:
    """False for spacer elements such as <p>&nbsp;</p>."""
    return bool(element_text(element)) or element.find(".//img") is not None


def last_line(body: etree._Element) -> etree._Element | None:
    """The body's last element with content, looking inside wrapper elements."""
    node = body
    while True:
        last = next((c for c in reversed(node) if isinstance(c.tag, str) and has_content(c)), None)
        if last is None or last.tag not in WRAPPERS or not any(isinstance(c.tag, str) for c in last):
            return last
        node = last


def in_body(body: etree._Element, template: ArticleTemplate, captions: Iterable[str]) -> etree._Element | None:
    """The element holding the byline, when the body's last line is one."""
    last = last_line(body)
    if last is None or last is body or last.find(".//img") is not None:
        return None
    text = element_text(last)
    if not short(text) or text in set(captions) or matches(last, body, template.caption):
        return None
    if matches(last, body, template.byline) or BY.match(text):
        return last
    return None if matches(last, body, template.paragraph) else last


def in_paragraphs(body: etree._Element, paragraphs: list[str], templates: Iterable[ArticleTemplate]) -> str | None:
    """For a page no template reads: the generic extractor's last paragraph, when it is a byline.

    `body` is trafilatura's main-text tree, which keeps each paragraph's
    attributes: the last paragraph is a byline when it is short and carries
    the profile's byline markup, markup no other paragraph has, or opens with "by".
    """
    if not paragraphs or not short(paragraphs[-1]):
        return None
    kept = set(paragraphs)
    elements = [p for p in body.iter("p") if element_text(p) in kept]
    last = next((p for p in reversed(elements) if element_text(p) == paragraphs[-1]), None)
    if BY.match(paragraphs[-1]):
        return paragraphs[-1]
    if last is None:
        return None
    others = {_markup(p) for p in elements if p is not last}
    if any(matches(last, body, t.byline) for t in templates) or (others and _markup(last) not in others):
        return paragraphs[-1]
    return None


def _markup(element: etree._Element) -> tuple[str, str]:
    return " ".join((element.get("class") or "").split()), " ".join((element.get("style") or "").split())
