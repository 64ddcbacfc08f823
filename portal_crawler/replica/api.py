"""The app layout's JSON API, as the 2025+ portal's front end calls it (no sockets here).

``GET /backend-portal/articles/search?dateFrom=&dateTo=&category_id=1065&page=0&size=10``
answers a Spring-style page under ``data`` (``content``, ``number``, ``size``,
``totalElements``, ``totalPages``, ``first``, ``last``); ``GET
/backend-portal/articles/<articleId>`` one article with its body as HTML.
The request header ``Portal-Id`` picks the content tree: ``28`` the English
news (the replica's articles), ``22`` / ``25`` a small Vietnamese tree, any
other value (or none) an empty one. Field names are the replica's guess at
the live API (PORTAL.md: only ``data.content`` is known), chosen so that a
profile must map them rather than rely on defaults.

``articleId`` is ``ID_BASE + key`` (seeds 199995 to 199999, generated
article ``i`` 200000 + i): stable for a seed number, never a 10-digit stamp.
Days (``dateFrom``/``dateTo``, inclusive) are publication days in Hanoi time.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import parse_qsl

from portal_crawler.replica import markup
from portal_crawler.replica.articles import Article
from portal_crawler.replica.markup import esc
from portal_crawler.replica.responses import Response

API_PREFIX = "/backend-portal/"
SEARCH = "/backend-portal/articles/search"
DETAIL = re.compile(r"/backend-portal/articles/([^/]*)")
JSON = "application/json; charset=utf-8"
ID_BASE = 200_000
NEWS = 1065
MAX_SIZE = 50
HANOI = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # +07:00 all year since 1975
INTEGER = re.compile(r"-?[0-9]+")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
BY = re.compile(r"^\s*by\s*[:\-]?\s+", re.IGNORECASE)
NOT_JSON = b"<html><body>Service temporarily unavailable</body></html>"
NO_ITEMS = {"code": 200, "message": "OK", "data": {"items": []}}


class BadRequest(ValueError):
    """A query the API refuses with 400."""


def article_id(article: Article) -> int:
    """The API's ID of an article (not its stamp)."""
    return ID_BASE + article.key


def key_of(api_id: int) -> int:
    return api_id - ID_BASE


def publish_time(stamp: int) -> str:
    """``2024-10-15T14:00:00+07:00``: Unix time in Hanoi time, with seconds."""
    return datetime.fromtimestamp(stamp, HANOI).isoformat(timespec="seconds")


def author(byline: str | None) -> str | None:
    """The byline name without its "by" (``By Le Hoa`` -> ``Le Hoa``; a desk stays a desk)."""
    name = BY.sub("", " ".join((byline or "").split())).strip()
    return name or None


@dataclass(frozen=True)
class Query:
    """A listing request's parameters, checked (unknown ones are ignored)."""

    page: int = 0
    size: int = 10
    first_day: date | None = None
    last_day: date | None = None
    news: bool = True  # category_id absent, empty or 1065

    @classmethod
    def parse(cls, query: str) -> Query:
        """From a query string; the last value of a repeated parameter counts. Raises BadRequest."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        page = number(params, "page", 0)
        size = number(params, "size", 10)
        if page < 0:
            raise BadRequest("page must be 0 or more")
        if not 1 <= size <= MAX_SIZE:
            raise BadRequest(f"size must be 1 to {MAX_SIZE}")
        news = params.get("category_id", "") in ("", str(NEWS))
        return cls(page, size, day(params, "dateFrom"), day(params, "dateTo"), news)

    def stamps(self) -> tuple[int | None, int | None]:
        """The Unix-time bounds (inclusive) of the days asked for."""
        oldest = None if self.first_day is None else midnight(self.first_day)
        newest = None if self.last_day is None else midnight(self.last_day + timedelta(days=1)) - 1
        return oldest, newest

    def covers(self, published: date) -> bool:
        return (self.first_day or published) <= published <= (self.last_day or published)


def midnight(day: date) -> int:
    """Unix time of the day's start in Hanoi."""
    return int(datetime.combine(day, time(), HANOI).timestamp())


def number(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not INTEGER.fullmatch(value):
        raise BadRequest(f"{name} must be a number")
    return int(value)


def day(params: dict[str, str], name: str) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date YYYY-MM-DD") from None


def answer(status: int, payload: object) -> Response:
    """A JSON answer (compact, UTF-8, like a Spring back end)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, JSON)


def failure(status: int, message: str) -> Response:
    return answer(status, {"code": status, "message": message, "data": None})


def ok(data: object) -> Response:
    return answer(200, {"code": 200, "message": "OK", "data": data})


def not_json() -> Response:
    """What ``api_not_json`` answers: an HTML error page with status 200."""
    return Response(200, NOT_JSON)


def page_of(query: Query, total: int, items: list[dict]) -> dict:
    """``data`` of a listing answer."""
    pages = -(-total // query.size)
    return {
        "content": items,
        "number": query.page,
        "size": query.size,
        "totalElements": total,
        "totalPages": pages,
        "first": query.page == 0,
        "last": query.page >= pages - 1,
    }


def item(article: Article) -> dict:
    """One listing entry."""
    return {
        "articleId": article_id(article),
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "publishTime": publish_time(article.stamp),
        "url": article.url_path,
        "thumbnail": article.images[0] if article.images else None,
    }


def figure(image: str, caption: str | None) -> str:
    text = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure class="image"><img src="{esc(image)}" alt="">{text}</figure>'


def content_html(article: Article) -> str:
    """The body: paragraphs (with the portal's quirks, which fold back to the text) and photos, in order.

    No empty ``<p>&nbsp;</p>``, no byline paragraph, no second caption: each
    ``p`` is one of the article's paragraphs.
    """
    rng = random.Random(f"markup:{article.id}:{article.version}")
    parts = [
        markup.paragraph(block.text or "", rng) if block.kind == "p" else figure(block.image or "", block.text)
        for block in article.blocks
    ]
    return "\n".join(parts)


def detail(article: Article, show_date: bool = True, show_byline: bool = True) -> dict:
    """``data`` of a detail answer."""
    return {
        "articleId": article_id(article),
        "title": article.title,
        "slug": article.slug,
        "url": article.url_path,
        "publishTime": publish_time(article.stamp) if show_date else None,
        "summary": article.summary,
        "author": author(article.byline) if show_byline else None,
        "contentHtml": content_html(article),
        "images": [{"url": b.image, "caption": b.text or None} for b in article.blocks if b.kind == "img"],
        "category": {"id": NEWS, "name": "News"},
    }
