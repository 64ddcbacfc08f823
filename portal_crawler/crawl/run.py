"""One crawl run, as the `crawl` and `demo` commands start it: lock, settings, Scrapy, summary."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from portal_crawler.catalogue import Catalogue
from portal_crawler.core.collector import tuned_collector
from portal_crawler.core.errors import EXIT_BLOCKED, EXIT_DRIFT, EXIT_ERRORS, EXIT_OK, Failure
from portal_crawler.core.lock import ArchiveLock
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.core.times import file_stamp
from portal_crawler.crawl.failures import failure_text
from portal_crawler.crawl.standalone import FAST_SETTINGS
from portal_crawler.extraction.profile import load_profile
from portal_crawler.spiders.portal import PortalSpider
from portal_crawler.writer.quality import alarm_line


@dataclass
class CrawlOptions:
    archive: Path
    profile: str = "mps"
    start_urls: list[str] = field(default_factory=list)
    source: str = "auto"  # html, api, or auto (spiders/sources.py)
    api_base: str | None = None
    full: bool = False
    max_pages: int | None = None
    recheck_days: int | None = None
    fast: bool = False
    progress: bool = False
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    run_id: int
    status: str
    mode: str
    counts: dict[str, int]
    seconds: float
    archive: Path
    error: str | None = None  # why a run failed, when the run knows
    alarms: list[str] = field(default_factory=list)  # layout drift, one phrase each
    quality: dict[str, Any] = field(default_factory=dict)
    first_failure: str | None = None  # `URL: reason` of the run's first failed fetch (crawl/failures.py)
    log: Path | None = None  # the run's log file

    @property
    def exit_code(self) -> int:
        """The most severe outcome wins: blocked (4), then drift (3), then errors (1)."""
        if self.status == "blocked":
            return EXIT_BLOCKED
        if self.alarms:
            return EXIT_DRIFT
        return EXIT_OK if self.status == "ok" else EXIT_ERRORS

    def problem_line(self) -> str | None:
        """The one line for stderr, the one cron mails: why the run is not plainly ok (None when it is).

        Its cause by the exit code's order: the wall (4), the drift alarm (3),
        then what stopped the run or its errors with the first failed fetch (1).
        """
        if self.status == "blocked":
            return self.error
        trouble = self._trouble()
        if self.alarms:
            return alarm_line(self.alarms) + (f"; also {trouble}" if trouble else "")
        return trouble

    def _trouble(self) -> str | None:
        if self.status == "ok":
            return None
        if self.error and self.error != self.first_failure:  # what stopped the run (the writer's own line)
            return self.error
        errors = self.counts.get("errors", 0)
        what = f"{errors} error{'s' * (errors != 1)}" if errors else f"run {self.run_id} {self.status}"
        first = f", the first {self.first_failure}" if self.first_failure else ""
        return what + first + (f" (log: {self.log})" if self.log else "")

    def _new(self) -> str:
        new = self.counts.get("articles_new", 0)
        made = self.quality.get("articles") or {}
        if not made:
            return f"{new} new"
        return f"{new} new ({', '.join(f'{made.get(q, 0)} {q}' for q in ('ok', 'partial', 'fallback'))})"

    def summary(self) -> str:
        c = self.counts
        rate = c.get("articles_new", 0) / self.seconds if self.seconds else 0.0
        return (
            f"run {self.run_id} {self.mode} {self.status}: {c.get('requests', 0)} requests, "
            f"{self._new()}, {c.get('articles_updated', 0)} updated, "
            f"{c.get('articles_unchanged', 0)} unchanged, {c.get('errors', 0)} errors, "
            f"{c.get('warc_bytes', 0) / 1e6:.1f} MB WARC in {self.seconds:.1f} s "
            f"({rate:.1f} new articles/s) -> {self.archive}"
        )


def crawl_settings(options: CrawlOptions, log_file: Path) -> Settings:
    settings = Settings()
    settings.setmodule("portal_crawler.settings", priority="project")
    if options.fast:
        settings.setdict(FAST_SETTINGS, priority="cmdline")
    settings.setdict(
        {
            "PORTAL_ARCHIVE_DIR": str(options.archive),
            "LOG_FILE": str(log_file),
            "LOG_FILE_APPEND": True,  # O_APPEND: the writer process appends to the same file
            "PORTAL_SUMMARY": False,  # the command prints its own (crawl/summary.py is for `scrapy crawl`)
        },
        priority="cmdline",
    )
    settings.setdict(options.settings, priority="cmdline")
    if options.progress:
        extensions = settings.getdict("EXTENSIONS")
        settings.set(
            "EXTENSIONS", {**extensions, "portal_crawler.crawl.progress.ProgressLine": 500}, priority="cmdline"
        )
    return settings


def run_crawl(options: CrawlOptions) -> RunResult:
    """Run one crawl to completion; raises LockHeld or ProfileError before anything starts."""
    profile = load_profile(options.profile)
    logging.raiseExceptions = False  # a log write that fails (disk full) must not print tracebacks on stderr
    paths = ArchivePaths(options.archive)
    paths.logs.mkdir(parents=True, exist_ok=True)
    with ArchiveLock(paths.root) as lock:
        Catalogue(paths.catalogue).close()  # refuses an unusable catalogue before Scrapy starts
        log = paths.logs / f"crawl-{file_stamp()}.log"
        settings = crawl_settings(options, log)
        settings.set("PORTAL_LOCK_FD", lock.fd, priority="cmdline")
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(PortalSpider)
        started = time.monotonic()
        process.crawl(
            crawler,
            profile=profile,
            start_url=options.start_urls,
            source=options.source,
            api_base=options.api_base,
            full=options.full,
            max_pages=options.max_pages,
            recheck_days=options.recheck_days,
        )
        with tuned_collector():  # Scrapy and the spider are set up: what exists now lives as long as the run
            process.start()
        seconds = time.monotonic() - started
    spider = crawler.spider
    if not isinstance(spider, PortalSpider) or spider.archive is None:
        raise Failure(f"the crawl did not start; see the log in {paths.logs}")
    return result_of(spider, paths, seconds, log)


def result_of(spider: PortalSpider, paths: ArchivePaths, seconds: float, log: Path | None) -> RunResult:
    """The spider's run as the catalogue has it, with what only the spider knows (its first failure)."""
    assert spider.archive is not None
    result = _result(paths, spider.archive.run_id, seconds, spider.archive.failure)
    result.first_failure, result.log = failure_text(spider.first_failure), log
    return result


def _result(paths: ArchivePaths, run_id: int, seconds: float, failure: str | None) -> RunResult:
    """The run as the catalogue has it; when the writer failed, its own cause wins (the row may lack it)."""
    catalogue = Catalogue.reader(paths.catalogue)
    try:
        row = catalogue.run(run_id) or {"status": "failed", "mode": "unknown"}
    finally:
        catalogue.close()
    counts = {k: v for k, v in row.items() if isinstance(v, int) and k not in ("id", "pid")}
    status = "failed" if failure else row["status"]
    error = failure or row.get("error_summary")
    alarms = json.loads(row.get("alarms") or "[]")
    quality = json.loads(row.get("quality") or "{}")
    return RunResult(run_id, status, row["mode"], counts, seconds, paths.root, error, alarms, quality)
