"""The baseline of the API crawl benchmark: bare Scrapy making the requests of `crawl --full --source api`.

    python -m bench.bare_api_spider --start-url http://127.0.0.1:P/news.html [--log-file F]

Same settings as bench/bare_spider.py (the archiving crawl's, without archive,
extensions or pipelines). It walks the JSON API as the portal spider does:
the listing answers from the profile's first page (with its Portal-Id
header) until the answer's last-page flag, each item's detail answer, then
the article's page and its images (`extraction.api.detail_links`, as the
spider follows them), and each page's requisites. It reads answers for links only.

Prints one JSON line at the end: {"requests": ..., "responses": ..., "seconds": ...}.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response

from bench.bare_spider import BareSpider, run_bare
from portal_crawler.extraction import api
from portal_crawler.extraction.api_profile import ApiSource
from portal_crawler.spiders.base import PRIORITY


class BareApiSpider(BareSpider):
    name = "bare-api"

    def __init__(self, start_url: str, profile: str = "mps", **kwargs: Any) -> None:
        super().__init__(start_url, profile, **kwargs)
        parts = urlsplit(start_url)
        api = self.profile.api
        assert api is not None, "the profile has no [api] source"
        self.api: ApiSource = api
        self.base = f"{parts.scheme}://{parts.netloc}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.listing(self.api.listing.first_page)

    def listing(self, page: int) -> scrapy.Request:
        url = self.api.listing_url(page, self.base)
        return scrapy.Request(
            url, headers=dict(self.api.headers), callback=self.parse_api_listing, cb_kwargs={"page": page}
        )

    def parse_api_listing(self, response: Response, page: int) -> Iterator[scrapy.Request]:
        document = json.loads(response.body)
        listing = self.api.listing
        for item in listing.items.find(document) or []:
            api_id = listing.id.find(item)
            info = self.rules.classify(urljoin(self.base, str(listing.url.find(item))))
            if api_id is None or info.article_id in self.seen_ids:
                continue
            self.seen_ids.add(info.article_id or "")
            yield scrapy.Request(
                self.api.detail_url(str(api_id), self.base),
                headers=dict(self.api.headers),
                callback=self.parse_api_detail,
                priority=20,
            )
        if listing.last is not None and listing.last.find(document) is False:
            yield self.listing(page + 1)

    def parse_api_detail(self, response: Response) -> Iterator[scrapy.Request]:
        page, images = api.detail_links(json.loads(response.body), response.url, self.profile, self.rules)
        page = self.rules.classify(page.url)
        yield scrapy.Request(page.url, callback=self.parse_article, priority=PRIORITY["article"])
        for src in images:
            info = self.rules.classify(src)
            if info.url not in self.requisites_seen:
                self.requisites_seen.add(info.url)
                request = self._request(info)
                if request is not None:
                    yield request


def main(argv: list[str] | None = None) -> int:
    return run_bare(BareApiSpider, "python -m bench.bare_api_spider", argv)


if __name__ == "__main__":
    sys.exit(main())
