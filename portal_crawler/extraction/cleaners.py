"""Named cleaners: small pure functions that turn selected markup into field values.

A profile refers to these by name; it never holds code. Each cleaner takes
what the selector found and returns a clean value, or None when there is none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import etree

from portal_crawler.extraction.dates import printed_date

_BYLINE_PREFIX = re.compile(r"^\s*by\s*[:\-]?\s+", re.IGNORECASE)
_SPECIAL = ("br", "lb", "script", "style")  # tags whose own text is not the element's text (a space, or nothing)


def fold(text: str) -> str:
    """Runs of white space (non-breaking spaces and newlines included) to one space."""
    return " ".join(text.split())


def element_text(element: etree._Element) -> str:
    """The element's text with <br> (and trafilatura's <lb>) read as a space, white space folded."""
    if not len(element):  # no children, as most paragraphs and captions: its own text is all there is
        plain = element.text and isinstance(element.tag, str) and element.tag not in _SPECIAL
        return fold(element.text) if plain else ""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.tag in ("br", "lb"):
            parts.append(" ")
        elif isinstance(node.tag, str) and node.tag not in ("script", "style") and node.text:
            parts.append(node.text)
        if node.tag not in ("script", "style") or node is element:
            for child in node:
                walk(child)
                if child.tail:
                    parts.append(child.tail)

    walk(element)
    return fold("".join(parts))


def text(values: Iterable[str]) -> str | None:
    """The first non-empty value, white space folded."""
    for value in values:
        folded = fold(value)
        if folded:
            return folded
    return None


def date(values: Iterable[str], formats: Iterable[str]) -> str | None:
    """The first value that parses with one of the formats, as an ISO date."""
    formats = tuple(formats)
    for value in values:
        found = printed_date(fold(value), formats)
        if found:
            return found
    return None


def byline(value: str) -> str | None:
    """The author from a byline line: 'by Phuong Thao', 'By Le Hoa', a bare name or desk."""
    name = _BYLINE_PREFIX.sub("", fold(value)).strip()
    return name or None


def first_byline(values: Iterable[str], formats: Iterable[str] = ()) -> str | None:
    return next((name for name in map(byline, values) if name), None)


def first_text(values: Iterable[str], formats: Iterable[str] = ()) -> str | None:
    return text(values)


# The cleaners a profile names per field (templates' `cleaners` table): values found -> field value.
Cleaner = Callable[[Iterable[str], Iterable[str]], "str | None"]
CLEANERS: dict[str, Cleaner] = {
    "text": first_text,
    "date": date,
    "byline": first_byline,
}
