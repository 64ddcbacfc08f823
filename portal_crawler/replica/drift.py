"""Layout drift: the portal's pages in altered markup, the way CMS redesigns alter them.

``Replica.set_drift(variant, ...)``, ``ReplicaConfig(drift=...)``, ``POST
/_replica/control {"drift": ...}`` or ``--drift VARIANT`` pick one variant
(``None``: the layout as PORTAL.md describes it). Every variant keeps the
article's content (title, date, byline, paragraphs with their quirks,
captions), so ``Replica.article(id)`` stays the truth to check against.

``renamed``   every class renamed to other meaningful names (``article-body``,
              ``article-title``, ``article-date``; see ``renames.py``); article
              and listing pages, so neither template matches.
``neutral``   every class renamed to neutral names (``b-1`` body, ``t-1`` title,
              ``m-1`` date, ``l-2`` listing entry, ...); articles and listings.
``wrapped``   the body's content wrapped in ``<div class="content-wrap"><div
              class="content-text">`` inside the body element (the byline is no
              longer the body's last child). Listings unchanged.
``time``      the date element replaced by ``<time datetime="YYYY-MM-DD">`` with
              the printed date, where it was. Listings unchanged.
``byline``    the byline element replaced by ``<span class="author">`` with the
              same text, last in the body. Listings unchanged.
``nobanner``  banner and header (with its menu) dropped, articles and listings.
``redesign``  a new theme combining them, listings too (see ``redesign.py``).
``shell``     article URLs answer an app shell (``walls.shell``), no article text.
``challenge`` every request (``challenge_first=N``: the first N) answered with
              a bot-wall challenge (``walls.py``; ``challenge_kind`` incapsula or
              cloudflare, ``challenge_status`` to override the kind's status,
              ``challenge_pattern`` a regex a target must contain to be counted).
              ``challenge_first`` also works with any other variant: the first N
              requests are challenges, then that variant's pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from portal_crawler.replica import current, legacy, redesign, walls
from portal_crawler.replica.articles import Article
from portal_crawler.replica.markup import esc
from portal_crawler.replica.renames import NEUTRAL, RENAMED, rename_classes
from portal_crawler.replica.views import ArticleView, ListingView

VARIANTS = ("renamed", "neutral", "wrapped", "time", "byline", "nobanner", "redesign", "shell", "challenge")
WRAP_OPEN = '<div class="content-wrap">\n<div class="content-text">\n'
WRAP_CLOSE = "</div>\n</div>\n"
CLOSE = "</div>\n"


@dataclass(frozen=True)
class Drift:
    """One drift setting (all off by default); replaced whole, like the faults."""

    variant: str | None = None
    challenge_first: int | None = None
    challenge_kind: str = "incapsula"
    challenge_status: int | None = None
    challenge_pattern: str = ""

    def __post_init__(self) -> None:
        if self.variant is not None and self.variant not in VARIANTS:
            raise ValueError(f"drift must be one of {', '.join(VARIANTS)}, not {self.variant!r}")
        if self.challenge_kind not in walls.KINDS:
            raise ValueError(f"challenge_kind must be one of {', '.join(walls.KINDS)}, not {self.challenge_kind!r}")
        if self.challenge_first is not None and self.challenge_first < 0:
            raise ValueError("challenge_first must be 0 or more")
        if self.challenge_status is not None and not 100 <= self.challenge_status <= 599:
            raise ValueError(f"challenge_status must be an HTTP status, not {self.challenge_status}")
        try:
            re.compile(self.challenge_pattern)
        except re.error as error:
            raise ValueError(f"challenge_pattern is not a regular expression: {error}") from None

    @classmethod
    def parse(cls, spec: object) -> Drift:
        """From a control body: ``null``, ``"neutral"`` or ``{"variant": ..., "challenge_first": 5, ...}``."""
        if spec is None or isinstance(spec, str):
            return cls(spec)
        if not isinstance(spec, dict):
            raise ValueError("drift takes null, a variant name or an object")
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown drift option(s): {', '.join(sorted(unknown))}")
        return cls(**spec)

    @property
    def challenging(self) -> bool:
        return self.variant == "challenge" or self.challenge_first is not None

    def gate(self) -> walls.Gate:
        """A fresh request counter for this setting."""
        kind = self.challenge_kind if self.challenging else None
        return walls.Gate(kind, self.challenge_first, self.challenge_status, self.challenge_pattern)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Anatomy:
    """The fragments of one layout that drift takes apart."""

    article_page: Callable[[ArticleView], str]
    listing_page: Callable[[ListingView], str]
    listing: str
    body: Callable[[ArticleView], str]
    body_open: str
    date: Callable[[Article], str]
    byline: Callable[[str], str]
    chrome: tuple[str, ...]  # banner and header, dropped by ``nobanner``


ANATOMY = {
    "legacy": Anatomy(
        legacy.article_page,
        legacy.listing_page,
        legacy.LISTING,
        legacy.content,
        legacy.BODY_OPEN,
        legacy.date_line,
        legacy.byline_line,
        (legacy.BANNER, legacy.HEADER),
    ),
    "current": Anatomy(
        current.article_page,
        current.listing_page,
        current.LISTING,
        current.body,
        current.BODY_OPEN,
        current.date_line,
        current.byline_line,
        (current.HEADER,),
    ),
}


def swap(page: str, old: str, new: str) -> str:
    """Replace one fragment the layout must have printed."""
    if old not in page:
        raise RuntimeError(f"drift: the layout no longer prints {old[:60]!r}")
    return page.replace(old, new, 1)


def wrapped(page: str, view: ArticleView, anatomy: Anatomy) -> str:
    body = anatomy.body(view)  # same view, same quirks: the very string the page holds
    inner = body[len(anatomy.body_open) : -len(CLOSE)]
    return swap(page, body, anatomy.body_open + WRAP_OPEN + inner + WRAP_CLOSE + CLOSE)


def timed(page: str, view: ArticleView, anatomy: Anatomy) -> str:
    article = view.article
    if not view.show_date:
        return page
    moved = f'<time datetime="{article.published.isoformat()}">{article.date_text}</time>\n'
    return swap(page, anatomy.date(article), moved)


def bylined(page: str, view: ArticleView, anatomy: Anatomy) -> str:
    byline = view.article.byline
    if not (byline and view.show_byline):
        return page
    return swap(page, anatomy.byline(byline), f'<span class="author">{esc(byline)}</span>\n')


def unbannered(page: str, anatomy: Anatomy) -> str:
    for part in anatomy.chrome:
        page = page.replace(part, "", 1)
    return page


def article_page(view: ArticleView, layout: str, variant: str | None) -> str:
    """An article page of ``layout`` in ``variant``'s markup."""
    anatomy = ANATOMY[layout]
    if variant == "redesign":
        return redesign.article_page(view, anatomy.listing)
    if variant == "shell":
        return walls.shell(view.article.id)
    page = anatomy.article_page(view)
    if variant == "wrapped":
        return wrapped(page, view, anatomy)
    if variant == "time":
        return timed(page, view, anatomy)
    if variant == "byline":
        return bylined(page, view, anatomy)
    return restyled(page, anatomy, variant)


def listing_page(view: ListingView, layout: str, variant: str | None) -> str:
    """A listing page of ``layout`` in ``variant``'s markup (most variants leave listings alone)."""
    anatomy = ANATOMY[layout]
    if variant == "redesign":
        return redesign.listing_page(view, anatomy.listing)
    return restyled(anatomy.listing_page(view), anatomy, variant)


def restyled(page: str, anatomy: Anatomy, variant: str | None) -> str:
    """The variants that apply to any page: class renames and the dropped banner."""
    if variant == "renamed":
        return rename_classes(page, RENAMED)
    if variant == "neutral":
        return rename_classes(page, NEUTRAL)
    if variant == "nobanner":
        return unbannered(page, anatomy)
    return page
