"""Scrapy settings for portal-crawler: politeness, retries, middleware and pipeline order.

Defaults are for the live portal: robots.txt obeyed, AutoThrottle on, at most two
requests at a time per host, an identifying User-Agent. Tests and benchmarks
lift the politeness for the replica with PORTAL_FAST=1 (see portal_crawler.crawl.run).
"""

import os

from portal_crawler import __version__

BOT_NAME = "portal-crawler"
SPIDER_MODULES = ["portal_crawler.spiders"]
NEWSPIDER_MODULE = "portal_crawler.spiders"

# -- identity and politeness (live portal) -----------------------------------
CONTACT_URL = "https://github.com/portal-crawler/portal-crawler"
USER_AGENT = f"portal-crawler/{__version__} (web archive of the MPS English portal; +{CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control listens on a loopback port and runs posted Python in the crawl
# (with a token under $HOME that killed runs leave behind): a nightly archiver opens no port.
REMOTE_CONTROL_ENABLED = False

# -- faults ------------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubling per attempt
RETRY_BACKOFF_MAX = 120.0  # and never more than this (Retry-After included)
DOWNLOADER_MIDDLEWARES = {
    "portal_crawler.middlewares.ScopeMiddleware": 60,  # after offsite (50), before robots.txt (100)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "portal_crawler.middlewares.BackoffRetryMiddleware": 550,
    "portal_crawler.middlewares.RetryDelayMiddleware": 560,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "portal_crawler.middlewares.WriterReadsCompressionMiddleware": 590,  # Scrapy's, bar pages the writer reads
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "portal_crawler.middlewares.WriterReadsMetaRefreshMiddleware": 580,  # Scrapy's, reading those pages' heads
}
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024  # larger pages are refused (logged, counted as an error)
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a body cut short is an error, retried, never catalogued
REDIRECT_ENABLED = True

# Our callbacks yield a handful of requests/items each; Scrapy's default of 100
# parallel item slots costs 100 asyncio tasks per response (measured: -30% CPU).
CONCURRENT_ITEMS = 8

# -- order: a frontier that stays small (articles before listings) ------------
DEPTH_PRIORITY = 0
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# -- the archive ---------------------------------------------------------------
EXTENSIONS = {
    "portal_crawler.extensions.WarcCaptureExtension": 100,
    "portal_crawler.crawl.summary.RunSummary": 900,  # `scrapy crawl portal` only (PORTAL_SUMMARY)
}
# portal_crawler.crawl.progress.ProgressLine is added by `portal-crawler crawl` when stderr is a terminal.
# No ITEM_PIPELINES: the article stages (extract, validate, version, catalogue) run in the
# writer process from each capture (portal_crawler/writer/session.py).
PORTAL_ARCHIVE_ENABLED = True  # False: crawl without archiving (scrapy check, the bare benchmark)
PORTAL_ARCHIVE_DIR = os.environ.get("PORTAL_ARCHIVE") or "archive"  # as `portal-crawler --archive` defaults
PORTAL_FAST = False  # True: lift the politeness for the replica on loopback (crawl/standalone.py FAST_SETTINGS)
PORTAL_SUMMARY = True  # print the summary line at the end (`portal-crawler crawl` prints its own)
PORTAL_PROFILE = "mps"
PORTAL_WARC_MAX_SIZE = 1_000_000_000
PORTAL_COMMIT_EVERY = 200  # catalogue rows per transaction (WARC synced before each commit)
PORTAL_COMMIT_SECONDS = 2.0
# Where the archive is written: "process" (a writer process beside the crawl, on the second core),
# "inline" (in the crawl process), "auto" (inline when the crawl may use one CPU only: writer/inline.py).
PORTAL_WRITER = "auto"
PORTAL_MAX_LISTING_PAGES = 10_000  # a walk never reads more listing pages than this (logged when it stops)

# `scrapy check portal`: @portal_url, @listing_template, @article_fields (spiders/contracts.py)
SPIDER_CONTRACTS = {
    "portal_crawler.spiders.contracts.PortalUrlContract": 10,
    "portal_crawler.spiders.contracts.ListingTemplateContract": 20,
    "portal_crawler.spiders.contracts.ArticleFieldsContract": 21,
}

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
