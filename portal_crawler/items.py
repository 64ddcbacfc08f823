"""Items: the article page the spider yields, and the Article extracted from it."""

from __future__ import annotations

from dataclasses import dataclass

from portal_crawler.extraction.article import Article
from portal_crawler.extraction.urls import UrlInfo

__all__ = ["Article", "ArticlePage"]


@dataclass
class ArticlePage:
    """An article page as the spider hands it on: the writer process extracts it into an Article."""

    info: UrlInfo
    summary: str | None
    capture_token: int | None
