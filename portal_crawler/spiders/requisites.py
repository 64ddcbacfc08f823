"""An article page's requisites, and the writer's answers: the second class of the portal spider's line.

With an archive, the writer process reads every HTML article page from its
capture (the crawl leaves it undecoded: `middlewares.READ_BY_WRITER`) and
answers with what the page embeds and whether it is a wall (`Requisites`); the
spider counts the wall in its streak, requests the images, stylesheets and
scripts this run has not fetched, and does not close while answers are owed.
Without an archive, the spider reads the page's requisites itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse

from portal_crawler.crawl import standalone
from portal_crawler.extraction.article import Article
from portal_crawler.extraction.pages import requisite_urls
from portal_crawler.extraction.urls import UrlInfo
from portal_crawler.spiders.base import PortalBase
from portal_crawler.writer.protocol import Requisites

ANSWER_PATIENCE = 120.0  # seconds without an answer from the writer before the run stops waiting for it


class PageRequisites(PortalBase):
    """Article pages: their requisites, read here or answered by the writer (see the module docstring)."""

    def parse_article(self, response: Response) -> Iterator[scrapy.Request | Article]:
        """The writer process catalogues the page from its capture; here only its requisites are queued.

        A 304 or 404/410 is the writer's to judge too (unchanged, or gone). With
        a feed configured, the article is also yielded, as the writer reads it.

        @portal_url /news-events/communal-police-force-be-peoples-firm-support-t9402.html
        @article_fields title published author paragraphs captions images
        @returns items 0 0
        @returns requests 4
        """
        if not self.refused(response) and response.status == 200 and isinstance(response, TextResponse):
            if self.archive is None:  # with an archive, its writer parses the page and answers its requisites
                yield from self._requisites(response)
            if self.feed_items and (item := standalone.page_item(response, self.profile)) is not None:
                yield item

    def requisites_answered(self, answer: Requisites) -> None:
        """The writer read an article page: count its verdict on walls, request what it embeds and this run
        has not fetched yet."""
        if self.blocked is None and self.writer_reads_articles and (line := self.blocks.count(answer.wall, answer.url)):
            self.stop_blocked(line)
        if self.blocked is None:  # the writer's URLs are canonical already: what this run asked for is skipped unread
            fresh = (self.rules.classify(url) for url in answer.found if url not in self._requisites_seen)
            for request in self._requisite_requests(fresh):
                self.crawler.engine.crawl(request)
        if self.archive is not None and not self.archive.unanswered:
            self._wake_engine()

    def wait_for_answers(self) -> None:
        """spider_idle: the run is not over while the writer still owes requisites of pages it parses.

        A writer that stops answering for `ANSWER_PATIENCE` s is not waited for: the run ends with
        an error (it never hangs a nightly job), and the next run fetches what is missing.
        """
        if self.archive is None or not self.archive.unanswered or self.blocked is not None:
            return
        if self.archive.owes_answers(ANSWER_PATIENCE):
            raise DontCloseSpider
        owed = self.archive.unanswered
        self.logger.error("the archive writer did not say what %d article pages embed: their images are missing", owed)
        self.record_failure(self.start_urls[0], f"the writer owed the requisites of {owed} article pages")
        self.archive.unanswered = 0  # said once; answers that still come are taken as usual

    def _wake_engine(self) -> None:
        """Have the engine look again at once (it would on its 5 s heartbeat) whether the run is over.

        Scrapy has no public call for it; `nextcall` is what `engine.crawl` schedules.
        """
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def _requisites(self, response: TextResponse) -> Iterator[scrapy.Request]:
        """The page's images, stylesheets and scripts not yet requested in this run nor captured before."""
        yield from self._requisite_requests(requisite_urls(response, self.rules))

    def _requisite_requests(self, infos: Iterable[UrlInfo]) -> Iterator[scrapy.Request]:
        fresh = list(
            {
                info.url: info
                for info in infos
                if info.kind == "requisite" and self.rules.allowed(info.url) and info.url not in self._requisites_seen
            }.values()
        )
        self._requisites_seen.update(info.url for info in fresh)
        captured = self.archive.catalogue.captured([i.url for i in fresh]) if self.archive and fresh else set()
        for info in fresh:
            if info.url not in captured:
                request = self._request(info)
                if request is not None:
                    yield request

    def parse_requisite(self, response: Response) -> None:
        """Requisites are archived by the capture extension; only a challenge in their place matters.

        @portal_url /css/style.css
        @returns items 0 0
        @returns requests 0 0
        """
        self.refused(response)
