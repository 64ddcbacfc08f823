"""The walk over the listing pages: where it stops, and what it noticed that the profile does not expect.

The walk stops after a listing page that lists nothing new in this walk (a soft
404, a broken pager that repeats its entries), after `max_pages` (the user's
`--max-pages`) or `PORTAL_MAX_LISTING_PAGES`; and it keeps, per drift signal,
the listing pages it could not read as the profile says, for the run's alarm.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from urllib.parse import urljoin

from scrapy.http import TextResponse
from scrapy.utils.response import get_base_url

from portal_crawler.extraction.pages import entry_links
from portal_crawler.extraction.profile import ListingTemplate
from portal_crawler.extraction.selectors import select
from portal_crawler.extraction.urls import UrlInfo, UrlRules

logger = logging.getLogger("portal")


class ListingWalk:
    """One run's walk: pages read, article IDs listed, where and why it stopped, drift signals."""

    def __init__(self, rules: UrlRules, *, max_pages: int | None, page_limit: int | None) -> None:
        self.rules, self.max_pages, self.page_limit = rules, max_pages, page_limit
        self.pages = 0
        self.listed_ids: set[str] = set()  # every article ID the listing pages of this walk showed
        self.signals: defaultdict[str, list[str]] = defaultdict(list)  # signal -> listing page URLs
        self.stopped_early = False

    def read(self, response: TextResponse, template: ListingTemplate | None) -> None:
        """One listing page read: count it, note a page no template matches and entry links no pattern knows."""
        self.pages += 1
        if template is None:
            self.signals["listing_untemplated"].append(response.url)
            logger.warning("no listing template matches %s; reading every article link", response.url)
            return
        for _, url in entry_links(response, template):
            if self.rules.in_scope(url) and self.rules.classify(url).kind != "article":
                self.signals["listing_unknown_links"].append(url)
                logger.warning("a listing entry links to %s, which matches no article pattern", url)

    def brings_news(self, url: str, ids: list[str]) -> bool:
        """Whether the page lists an article not listed before in this walk; if not, the walk stops here."""
        fresh = set(ids) - self.listed_ids
        self.listed_ids |= fresh
        if fresh:
            return True
        if ids:
            self.signals["listing_stops"].append(url)
            logger.warning(
                "listing walk stops at %s: it lists no article not already listed in this walk"
                " (a soft 404 or a broken pager?)",
                url,
            )
        return False

    def may_go_on(self, url: str) -> bool:
        """Whether the walk may read a page after `url` (False past --max-pages or PORTAL_MAX_LISTING_PAGES)."""
        if self.max_pages is not None and self.pages >= self.max_pages:
            self.stopped_early = True
            return False
        if self.page_limit is not None and self.pages >= self.page_limit:
            self.stopped_early = True
            self.signals["listing_stops"].append(url)
            logger.warning("listing walk stops at %s: PORTAL_MAX_LISTING_PAGES (%d) pages read", url, self.pages)
            return False
        return True

    def next_pages(self, response: TextResponse, template: ListingTemplate | None, full: bool) -> list[UrlInfo]:
        """The listing pages to read after this one (none when the walk must stop)."""
        if not self.may_go_on(response.url):
            return []
        if not full or template is None:  # without a template's pager links, the next page by number
            current = self.rules.classify(response.url)
            candidates = [self.rules.classify(self.rules.listing_page(response.url, (current.page or 1) + 1))]
        else:
            base = get_base_url(response)
            candidates = [
                self.rules.classify(urljoin(base, h)) for h in select(response.selector.root, template.pager_links)
            ]
        return [info for info in candidates if info.kind == "listing"]
