"""The summary line at the end of a `scrapy crawl portal` run, as `portal-crawler crawl` prints it.

`portal-crawler crawl` prints its own (on a terminal, or with --summary) and
turns this extension off (`PORTAL_SUMMARY`, crawl/run.py). Under `scrapy crawl`
the summary goes to stdout (to stderr when the feed is written to stdout, so
the feed stays clean), and a run that is not ok adds its one line on stderr.
Scrapy's exit code does not follow the run's outcome: `portal-crawler crawl`'s does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from portal_crawler.core.paths import ArchivePaths
from portal_crawler.crawl.run import result_of
from portal_crawler.spiders.portal import PortalSpider

PROG = "portal-crawler"


class RunSummary:
    """Prints the run's summary once the engine has stopped (the writer has finished, the run row is final)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started = time.monotonic()
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        settings = crawler.settings
        if not (settings.getbool("PORTAL_SUMMARY") and settings.getbool("PORTAL_ARCHIVE_ENABLED")):
            raise NotConfigured("the summary is printed by portal-crawler crawl")
        return cls(crawler)

    def engine_started(self) -> None:
        self.started = time.monotonic()

    def engine_stopped(self) -> None:
        spider = self.crawler.spider
        if not isinstance(spider, PortalSpider) or spider.archive is None:
            return
        settings = self.crawler.settings
        paths = ArchivePaths(Path(settings.get("PORTAL_ARCHIVE_DIR")))
        log = settings.get("LOG_FILE")
        result = result_of(spider, paths, time.monotonic() - self.started, Path(log) if log else None)
        feeds = settings.getdict("FEEDS")
        out = sys.stderr if any(str(uri).startswith("stdout:") for uri in feeds) else sys.stdout
        print(result.summary(), file=out, flush=True)
        problem = result.problem_line()
        if problem:
            print(f"{PROG}: {problem}", file=sys.stderr, flush=True)
