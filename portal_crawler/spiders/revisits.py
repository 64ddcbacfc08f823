"""What the catalogue already holds, as the spider asks it: known IDs, rechecks and the closing sweep.

A mixin of PortalSpider (its state is the spider's). An incremental run skips
known articles; `--recheck-days` re-asks recent ones conditionally (ETag,
Last-Modified); a full run, once the listings are done, re-requests every
catalogued article the listings no longer showed, which is how deletions are
found. An article catalogued from the JSON API is re-asked at its API detail
URL (the URL of its last answer), an HTML article at its page.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import DontCloseSpider

from portal_crawler.extraction.api import ApiEntry
from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.spiders.api_source import ApiWalk


class Revisits(ApiWalk):
    """The closing sweep over what the catalogue holds."""

    def sweep_catalogue(self) -> None:
        """Once the listings are done: re-request catalogued articles they no longer show.

        A full run re-fetches every one; --recheck-days those published recently
        (conditionally). This is how deleted articles are found and marked gone.
        """
        if self._swept or self.archive is None or not (self.full or self.recheck_days is not None):
            return
        self._swept = True
        since = None if self.full else (date.today() - timedelta(days=self.recheck_days or 0)).isoformat()
        scheduled = 0
        for article_id, url, answered_at, etag, last_modified in self.archive.catalogue.iter_article_urls(since):
            validators = {} if self.full else {"etag": etag, "last_modified": last_modified}
            request = self._sweep_request(article_id, url, answered_at, validators)
            if request is not None:
                self.crawler.engine.crawl(request)
                scheduled += 1
        if scheduled:
            self.logger.info("re-requesting %d catalogued articles the listings no longer show", scheduled)
            raise DontCloseSpider

    def _sweep_request(
        self, article_id: str, url: str, answered_at: str | None, validators: dict[str, str | None]
    ) -> scrapy.Request | None:
        if article_id in self.seen_ids:
            return None
        if answered_at and self.rules.classify(answered_at).kind == "api_article" and self.profile.api is not None:
            page, parts = self.rules.classify(url), urlsplit(answered_at)
            detail = self.api_base + urlunsplit(("", "", parts.path, parts.query, ""))  # the API where it is now
            entry = ApiEntry(UrlInfo("article", url, article_id, page.section), detail, None, None)
            return self.api_detail_request(entry, validators)
        info = self.rules.classify(url)
        if info.article_id != article_id:
            return None
        return self._conditional(info, None, validators)
