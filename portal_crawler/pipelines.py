"""Item pipelines: validate -> deduplicate/version -> catalogue.

Validation never drops an article that has content: a missing field lowers its
quality (`partial`) and is listed in `problems`. Deduplication and versioning
happen in the catalogue by article ID and content hash: the same content seen
again only touches `last_seen`, changed content becomes a new version.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from portal_crawler.items import Article

logger = logging.getLogger(__name__)


class ValidatePipeline:
    """Drops only what is not an article at all; everything else is kept with its problems."""

    def process_item(self, item: Article) -> Article:
        if not item.id:
            raise DropItem(f"no article ID in {item.url}")
        if not item.paragraphs and not item.title:
            raise DropItem(f"no title and no text in {item.url} (kept in WARC only)")
        if item.problems:
            logger.info("article %s is %s: %s", item.id, item.quality, "; ".join(item.problems))
        return item


class CataloguePipeline:
    """Writes each article to the catalogue through the run's ArchiveSession."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "CataloguePipeline":
        return cls(crawler)

    def process_item(self, item: Article) -> Article:
        session = getattr(self.crawler.spider, "archive", None)
        if session is not None:
            outcome = session.catalogue_article(item)
            self.crawler.stats.inc_value(f"portal/articles_{outcome}")
        return item
