"""A live progress line on a terminal: pages, articles handed to the writer, rate, errors.

Enabled by `portal-crawler crawl` only when stderr is a terminal; under cron the run
writes plain log lines to archive/logs/ and nothing else unless something failed.
The line is cut to the terminal's width (less one column, so the cursor never
wraps): a line longer than the terminal would scroll at every update.
"""

from __future__ import annotations

import shutil
import sys
import time

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task


class ProgressLine:
    def __init__(self, crawler: Crawler, interval: float = 0.5) -> None:
        self.crawler, self.interval = crawler, interval
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.show)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressLine:
        return cls(crawler)

    def opened(self) -> None:
        self.loop.start(self.interval, now=False)

    def show(self) -> None:
        stats = self.crawler.stats
        spider = self.crawler.spider
        pages = stats.get_value("downloader/response_count", 0)
        articles = stats.get_value("portal/articles", 0)
        errors = len(getattr(spider, "failed", []))
        rate = pages / max(time.monotonic() - self.started, 1e-6)
        sys.stderr.write("\r" + progress_text(pages, articles, rate, errors, shutil.get_terminal_size().columns))
        sys.stderr.flush()

    def closed(self) -> None:
        if self.loop.running:
            self.loop.stop()
        self.show()
        sys.stderr.write("\n")


def progress_text(pages: int, articles: int, rate: float, errors: int, columns: int) -> str:
    """The line as shown, at most `columns - 1` characters (and at least one)."""
    text = f"{pages} pages, {articles} articles, {rate:.1f} pages/s, {errors} errors "
    return text[: max(columns - 1, 1)]
