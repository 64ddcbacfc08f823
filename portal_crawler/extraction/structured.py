"""What a page declares about itself: JSON-LD, microdata, OpenGraph and plain `<meta>` tags.

extruct reads the first three; plain `<meta name=... content=...>` tags are a
lookup by name, not a format to parse. Each source becomes one `Declared`
with the four fields a per-field fallback may take from it. Only items typed
as articles count (a site's `WebSite` name is not an article's title).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from portal_crawler.extraction.cleaners import byline, fold

SYNTAXES = {  # extruct syntax -> an XPath that says the page has some (extruct runs only then)
    "json-ld": etree.XPath("boolean(//script[@type='application/ld+json'])"),
    "microdata": etree.XPath("boolean(//*[@itemscope])"),
    "opengraph": etree.XPath("boolean(//meta[@property][@content])"),
}
META = etree.XPath("//meta[@name][@content]")
META_NAMES = {
    "title": ("title", "dc.title", "citation_title"),
    "published": (
        "article:published_time",
        "pubdate",
        "publishdate",
        "publication_date",
        "date",
        "dc.date.issued",
        "dc.date",
        "citation_publication_date",
        "parsely-pub-date",
    ),
    "author": ("author", "dc.creator", "citation_author", "byl", "parsely-author"),
}
ARTICLE_TYPES = ("Article", "BlogPosting", "Report")


@dataclass
class Declared:
    """One source's declared title, date (as written), author and images."""

    source: str  # "json-ld", "microdata", "opengraph" or "meta"
    title: str | None = None
    published: str | None = None
    author: str | None = None
    images: list[str] = field(default_factory=list)


def declared(root: etree._Element, url: str) -> list[Declared]:
    """Every source the page has, in the order a fallback asks them."""
    found = _extruct(root, url)
    sources = [_schema(name, found.get(name) or []) for name in ("json-ld", "microdata")]
    sources += [_opengraph(found.get("opengraph") or []), _meta(root)]
    return [s for s in sources if s.title or s.published or s.author or s.images]


def _extruct(root: etree._Element, url: str) -> dict[str, list[Any]]:
    syntaxes = [name for name, present in SYNTAXES.items() if present(root)]
    if not syntaxes:
        return {}
    import extruct  # needed only for pages that declare something

    html = etree.tostring(root, encoding="unicode", method="html")
    return extruct.extract(html, base_url=url, syntaxes=syntaxes, uniform=True, errors="ignore")


def _items(data: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD document or microdata list, @graph flattened."""
    if isinstance(data, list):
        for item in data:
            yield from _items(item)
    elif isinstance(data, dict):
        yield data
        yield from _items(data.get("@graph") or [])


def _is_article(item: dict[str, Any]) -> bool:
    types = item.get("@type") or []
    types = [types] if isinstance(types, str) else types
    return any(isinstance(t, str) and any(a in t for a in ARTICLE_TYPES) for t in types)


def _schema(source: str, data: list[Any]) -> Declared:
    """The first article item of a schema.org source (JSON-LD or microdata)."""
    item = next((i for i in _items(data) if _is_article(i)), None)
    if item is None:
        return Declared(source)
    return Declared(
        source,
        title=_text(item.get("headline") or item.get("name")),
        published=_text(item.get("datePublished") or item.get("dateCreated")),
        author=_names(item.get("author")),
        images=_urls(item.get("image")),
    )


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return fold(value) or None if isinstance(value, str) else None


def _names(value: Any) -> str | None:
    """schema.org author: a name, a Person/Organization, or a list of them."""
    values = value if isinstance(value, list) else [value]
    names = [_text(v.get("name")) if isinstance(v, dict) else _text(v) for v in values]
    kept = [n for n in names if n and not n.startswith(("http://", "https://"))]
    return ", ".join(kept) or None


def _urls(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    urls = [v.get("url") or v.get("contentUrl") if isinstance(v, dict) else v for v in values]
    return [u.strip() for u in urls if isinstance(u, str) and u.strip()]


def _opengraph(data: list[Any]) -> Declared:
    props: dict[str, Any] = {}
    for item in data:
        if isinstance(item, dict):
            props = {**item, **props}
    author = _text(props.get("article:author"))
    return Declared(
        "opengraph",
        title=_text(props.get("og:title")),
        published=_text(props.get("article:published_time")),
        author=None if author and author.startswith(("http://", "https://")) else author,
        images=_urls(props.get("og:image")),
    )


def _meta(root: etree._Element) -> Declared:
    tags: dict[str, str] = {}
    for meta in META(root):
        tags.setdefault(str(meta.get("name")).strip().lower(), fold(str(meta.get("content"))))
    first = {name: next((tags[n] for n in names if tags.get(n)), None) for name, names in META_NAMES.items()}
    return Declared(
        "meta", title=first["title"], published=first["published"], author=byline(first["author"] or "") or None
    )
