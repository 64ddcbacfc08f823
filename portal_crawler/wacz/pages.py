"""The package's page lists, from the catalogue: every article of the slice with its text, and the listing pages.

`pages/pages.jsonl` has one line per article in the slice: its newest page
capture there (a 200, or a 304 recheck, which replays from the capture it
confirmed), `ts` that capture's WARC-Date (RFC 3339), and the title and body
of the version the article had then, as catalogued: ReplayWeb.page lists
the titles and searches the text. `pages/extraPages.jsonl` lists the other
HTML pages of the slice (the listing pages), newest capture of each URL.
Lines are written as the cursor reads them, newest article first.

ReplayWeb.page (2.5) takes its full-text index from `extraPages.jsonl`
whenever a package has one, and from `pages.jsonl` only otherwise; so that
its search still finds the articles' words, `extraPages.jsonl` repeats the
article lines (with their text) before the listing pages.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from portal_crawler.wacz.layout import EXTRA_PAGES_HEADER, PAGES_HEADER
from portal_crawler.wacz.selection import HTML_PAGE

_ARTICLE_PAGES = f"""
WITH page AS (
    SELECT c.article_id AS article_id, max(c.id) AS capture_id FROM captures c
    JOIN temp.wacz_slice s ON s.id = c.id WHERE c.article_id IS NOT NULL AND {HTML_PAGE} GROUP BY c.article_id
), shown AS (
    SELECT page.article_id, page.capture_id, (SELECT max(v.version) FROM versions v
        WHERE v.article_id = page.article_id AND v.capture_id <= page.capture_id) AS version FROM page
)
SELECT shown.article_id, c.url, coalesce(o.warc_date, c.warc_date),
    coalesce(v.title, a.title), coalesce(v.body, a.body), coalesce(v.published, a.published)
FROM shown JOIN captures c ON c.id = shown.capture_id JOIN articles a ON a.id = shown.article_id
LEFT JOIN versions v ON v.article_id = shown.article_id AND v.version = shown.version
LEFT JOIN temp.wacz_records r ON c.status = 304 AND r.record_id = c.refers_to
LEFT JOIN captures o ON o.id = r.capture_id
ORDER BY coalesce(v.published, a.published) DESC, shown.article_id
"""
_LISTING_PAGES = f"""
SELECT c.id, c.url, c.warc_date FROM captures c WHERE c.id IN (
    SELECT max(c.id) FROM captures c JOIN temp.wacz_slice s ON s.id = c.id
    WHERE c.article_id IS NULL AND c.status = 200 AND {HTML_PAGE} GROUP BY c.url
) ORDER BY c.url
"""


@dataclass
class PageCounts:
    """What the page lists hold, and the main page (the newest article, else the first listing page)."""

    articles: int = 0
    listings: int = 0
    main_url: str | None = None
    main_date: str | None = None

    def saw(self, line: dict[str, Any]) -> None:
        if self.main_url is None:
            self.main_url, self.main_date = line["url"], line["ts"]


def _line(page: dict[str, Any]) -> str:
    return json.dumps(page, ensure_ascii=False) + "\n"


def article_pages(conn: sqlite3.Connection, counts: PageCounts) -> Iterator[str]:
    """pages.jsonl: the header, then one line per article of the slice."""
    yield _line(PAGES_HEADER)
    yield from _articles(conn, counts)


def _articles(conn: sqlite3.Connection, counts: PageCounts | None) -> Iterator[str]:
    for article_id, url, warc_date, title, body, published in conn.execute(_ARTICLE_PAGES):
        page = {"id": article_id, "url": url, "ts": warc_date, "title": title or url, "text": body or ""}
        if published:
            page["published"] = published
        if counts is not None:
            counts.articles += 1
            counts.saw(page)
        yield _line(page)


def listing_pages(conn: sqlite3.Connection, counts: PageCounts) -> Iterator[str]:
    """extraPages.jsonl: the header, the article lines again (ReplayWeb.page's text index), then the listings."""
    yield _line(EXTRA_PAGES_HEADER)
    yield from _articles(conn, None)
    for capture_id, url, warc_date in conn.execute(_LISTING_PAGES):
        counts.listings += 1
        page = {"id": f"capture-{capture_id}", "url": url, "ts": warc_date, "title": url}
        yield _line(page)


def has_listings(conn: sqlite3.Connection) -> bool:
    sql = (
        "SELECT 1 FROM captures c JOIN temp.wacz_slice s ON s.id = c.id"
        f" WHERE c.article_id IS NULL AND c.status = 200 AND {HTML_PAGE} LIMIT 1"
    )
    return conn.execute(sql).fetchone() is not None
