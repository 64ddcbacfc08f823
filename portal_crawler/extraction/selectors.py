"""Profile selectors (CSS, parsel's dialect) run as compiled XPath on the lxml tree."""

from __future__ import annotations

from functools import lru_cache

from lxml import etree
from parsel.csstranslator import HTMLTranslator

_TRANSLATOR = HTMLTranslator()


@lru_cache(maxsize=512)
def compiled(css: str) -> etree.XPath:
    """A CSS selector (parsel dialect: ::text, ::attr(name)) as a compiled XPath, once per selector."""
    return etree.XPath(_TRANSLATOR.css_to_xpath(css))


def select(node: etree._Element, css: str) -> list:
    """Elements, or strings for ::text / ::attr() selectors."""
    return compiled(css)(node)


def matches(node: etree._Element, within: etree._Element, css: str) -> bool:
    """Whether `node` is among what `css` selects inside `within`."""
    return any(found is node for found in select(within, css))
