"""`scrapy crawl portal` as the same program as `portal-crawler crawl`: its archive, log file, pace and items.

`portal-crawler crawl` builds the run's settings itself (crawl/run.py); Scrapy's
own `scrapy crawl portal`, run from the repository root, has only settings.py
and its `-s` options. The spider calls `prepare` on them (its `update_settings`),
which makes that run the same as the command's:

- the archive is `-s PORTAL_ARCHIVE_DIR=DIR`, else `$PORTAL_ARCHIVE`, else
  ./archive (settings.py);
- the run, and its writer process, log to ARCHIVE/logs/crawl-<UTC timestamp>.log
  unless a log file is given (`--logfile`, `-s LOG_FILE=`);
- `-s PORTAL_FAST=1` lifts the politeness as `--fast` does (the replica on loopback);
- the summary line is printed at the end (crawl/summary.py).

With a feed (`-O articles.jsonl`), the spider also yields each article it read
as an item, made by the pure functions the writer process catalogues it with
(`extraction.pages.article_item`, `extraction.api.api_article`); without one,
no item is made, so an ordinary run pays nothing for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings

from portal_crawler.core.paths import ArchivePaths
from portal_crawler.core.times import file_stamp, iso_seconds
from portal_crawler.extraction.article import Article
from portal_crawler.extraction.pages import article_item
from portal_crawler.extraction.profile import Profile
from portal_crawler.extraction.selectors import select

# Lifted politeness for the replica on loopback (tests, demo, benchmarks): `--fast`, `-s PORTAL_FAST=1`.
FAST_SETTINGS: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_TIMEOUT": 10,
    "RETRY_TIMES": 3,
    "RETRY_BACKOFF_BASE": 0.2,
    "RETRY_BACKOFF_MAX": 2.0,
}


def prepare(settings: BaseSettings) -> None:
    """The run's settings before the spider is made (Scrapy logs to LOG_FILE from here on)."""
    if settings.getbool("PORTAL_FAST"):
        settings.setdict(FAST_SETTINGS, priority="spider")  # below `-s`: a setting given by name still wins
    if settings.getbool("PORTAL_ARCHIVE_ENABLED") and not settings.get("LOG_FILE"):
        logs = ArchivePaths(Path(settings.get("PORTAL_ARCHIVE_DIR"))).logs
        logs.mkdir(parents=True, exist_ok=True)
        settings.set("LOG_FILE", str(logs / f"crawl-{file_stamp()}.log"), priority="spider")
        settings.set("LOG_FILE_APPEND", True, priority="spider")  # O_APPEND: the writer process appends too


def wants_items(settings: BaseSettings) -> bool:
    """Whether the run exports items (a feed is configured: `-O FILE`, `-o FILE`, FEEDS)."""
    return bool(settings.getdict("FEEDS"))


def page_item(response: TextResponse, profile: Profile) -> Article | None:
    """The article an HTML page is catalogued as, for the feed (None for an app shell or a page with nothing)."""
    if profile.api is not None and select(response.selector.root, profile.api.shell):
        return None  # a shell: the article is the API answer's
    meta = response.meta
    article = article_item(
        response,
        meta["info"],
        profile,
        summary=None,
        capture_id=None,
        fetched_at=None,
        listing_date=meta.get("listing_date"),
    )
    return feed_item(article, response)


def feed_item(article: Article, response: Response) -> Article | None:
    """The article as the writer catalogues it: the listing's summary, the fetch time; None when not kept."""
    if not article.keepable:
        return None
    article.summary = response.meta.get("summary")
    article.fetched_at = iso_seconds()
    return article
