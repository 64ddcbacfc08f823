"""Items: the article page the spider yields, and the Article extracted from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal_crawler.urls import UrlInfo


@dataclass
class Article:
    id: str
    url: str
    title: str | None
    published: str | None
    author: str | None
    summary: str | None
    body: str
    paragraphs: list[str]
    captions: list[str]
    images: list[str]
    section: str | None
    template: str
    quality: str
    problems: list[str] = field(default_factory=list)
    capture_id: int | None = None
    fetched_at: str | None = None


@dataclass
class ArticlePage:
    """An article page as the spider hands it on: the writer process extracts it into an Article."""

    info: UrlInfo
    summary: str | None
    capture_token: int | None
