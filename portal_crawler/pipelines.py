"""Item pipelines: validate -> hand over for extraction, versioning and cataloguing.

The spider yields an `ArticlePage` per article page. `ValidatePipeline` drops
what has no article ID; `CataloguePipeline` hands the page to the run's writer
process (`archiving.ArchiveSession.on_article`), which extracts it with the
profile, keeps it even when a field is missing (quality `partial`, the problem
listed), and deduplicates/versions it in the catalogue by article ID and
content hash: the same content seen again only touches `last_seen`, changed
content becomes a new version. Extraction runs there, beside the WARC writing,
so the crawl's own thread stays free for Scrapy.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from portal_crawler.items import ArticlePage


class ValidatePipeline:
    """Drops only what is not an article at all; everything else is kept with its problems."""

    def process_item(self, item: ArticlePage) -> ArticlePage:
        if not item.info.article_id:
            raise DropItem(f"no article ID in {item.info.url}")
        if item.capture_token is None:
            raise DropItem(f"no capture of {item.info.url} (archiving is off)")
        return item


class CataloguePipeline:
    """Hands each article page to the run's writer process."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CataloguePipeline:
        return cls(crawler)

    def process_item(self, item: ArticlePage) -> ArticlePage:
        run = getattr(self.crawler.spider, "archive", None)
        if run is not None and item.capture_token is not None:
            run.article(item.capture_token, item.info, item.summary)
            self.crawler.stats.inc_value("portal/articles")
        return item
