"""What a layout needs to render a page, independent of the markup."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from portal_crawler.replica.articles import Article
from portal_crawler.replica.markup import filler

FILL = "\x00FILL\x00"  # where a page's padding goes (an ASP.NET-style view state)
OFFSITE_HOST = "http://example.invalid"


@dataclass(frozen=True)
class ArticleView:
    """One article page: the article, its "Other news", and fault switches."""

    article: Article
    others: list[Article]
    size: int  # target size of the page in bytes (padding makes it up)
    show_date: bool = True
    show_byline: bool = True
    offsite_link: bool = False
    charset: str = "utf-8"

    @property
    def rng(self) -> random.Random:
        """The generator behind this page's quirks: same article, same bytes."""
        return random.Random(f"markup:{self.article.id}:{self.article.version}")


@dataclass(frozen=True)
class ListingView:
    """One listing page: its items, where it is, and the query it was asked with."""

    items: list[Article]
    page: int
    pages: int
    query: str = ""  # the raw query string of the request (the pager echoes it)
    window: int = 2


@dataclass(frozen=True)
class PageSet:
    """The page numbers a pager shows: first, a window around the current, last."""

    page: int
    pages: int
    window: int = 2
    numbers: list[int] = field(init=False)

    def __post_init__(self) -> None:
        low, high = max(1, self.page - self.window), min(self.pages, self.page + self.window)
        object.__setattr__(self, "numbers", list(range(low, high + 1)))


def pad(html_text: str, size: int, rng: random.Random) -> str:
    """Replace the FILL marker with enough filler to reach ``size`` bytes."""
    missing = size - len(html_text.encode("utf-8")) + len(FILL)
    return html_text.replace(FILL, filler(rng, missing), 1)
