"""Rebuild the catalogue from the WARC files alone.

Records are replayed in file and record order (file names sort by time), through
the same page code as the crawl (`pages.py`), so a fixed profile re-extracts
old captures and article versions come out in capture order. The new catalogue
is built beside the old one and swapped in only when complete; the old one is
kept as `catalogue.db.bak`.
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.pool import Pool
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from portal_crawler import __version__
from portal_crawler.catalogue import Catalogue
from portal_crawler.core.errors import UsageProblem
from portal_crawler.extraction.pages import (
    article_item,
    listing_entries,
    listing_template,
    text_response,
)
from portal_crawler.extraction.profile import Profile, load_profile
from portal_crawler.extraction.urls import UrlRules
from portal_crawler.warc.reader import (
    ArchivedResponse,
    decode_entity,
    iter_records,
    read_record,
)
from portal_crawler.warc.records import RecordPointer


class ReindexError(UsageProblem):
    """The WARC directory cannot be reindexed; the message says why."""


@dataclass
class ReindexReport:
    files: int = 0
    captures: int = 0
    articles: int = 0
    versions: int = 0
    problems: list[str] = field(default_factory=list)


def warc_files(warc_dir: Path) -> list[Path]:
    if not warc_dir.is_dir():
        raise ReindexError(f"no WARC directory at {warc_dir}")
    return sorted(warc_dir.glob("*.warc.gz"))


def _warcinfo(path: Path) -> dict[str, str]:
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type != "warcinfo":
                return {}
            text = record.content_stream().read().decode("utf-8", "replace")
            return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return {}


def _second(warc_date: str) -> str:
    return warc_date[:19] + "Z"


class Reindexer:
    """Feeds WARC records, in order, into a fresh catalogue."""

    def __init__(self, catalogue: Catalogue, profile: Profile, report: ReindexReport, pool: Pool | None = None) -> None:
        self.catalogue, self.profile, self.report = catalogue, profile, report
        self.pool, self.pending, self.batch = pool, deque(), []
        self.summaries: dict[str, str | None] = {}
        self.originals: dict[str, tuple[Path, int]] = {}
        self.runs: set[int] = set()

    def add_file(self, path: Path) -> None:
        info = _warcinfo(path)
        run_id = int(info["run-id"]) if info.get("run-id", "").isdigit() else None
        if run_id is not None and run_id not in self.runs:
            self.runs.add(run_id)
            self.catalogue.conn.execute(
                "INSERT OR IGNORE INTO runs (id, started, status, mode, profile, software_version)"
                " VALUES (?, ?, 'reindexed', ?, ?, ?)",
                (run_id, "", info.get("mode", "unknown"), info.get("profile"), __version__),
            )
        for offset, length, record in iter_records(path):
            self.add_record(path, offset, length, record, run_id)
        self.drain()
        self.report.files += 1

    def add_record(self, path: Path, offset: int, length: int, record: ArchivedResponse, run_id: int | None) -> None:
        pointer = RecordPointer(
            path.name,
            offset,
            length,
            record.record_id,
            record.record_type,
            record.payload_digest or "",
            record.warc_date,
            0,
            0,
        )
        fetched_at = _second(record.warc_date)
        capture_id = self.catalogue.add_capture(
            run_id or 0,
            pointer,
            url=record.url,
            status=record.status,
            content_type=record.header("Content-Type"),
            fetched_at=fetched_at,
            etag=record.header("ETag"),
            last_modified=record.header("Last-Modified"),
            refers_to=record.refers_to,
        )
        self.report.captures += 1
        if record.record_type == "response":
            self.originals[record.record_id] = (path, offset)
        if record.status == 200:
            self.add_page(record, capture_id, fetched_at)
        elif record.status in (304, 404, 410):
            self.add_outcome(record, capture_id, fetched_at)

    def add_outcome(self, record: ArchivedResponse, capture_id: int, fetched_at: str) -> None:
        """A 304 touches the article, a 404/410 marks it gone: as the crawl did."""
        info = rules_for(self.profile, record.url).classify(record.url)
        if info.kind != "article" or not info.article_id:
            return
        self.submit(("outcome", (record.status, info.article_id, capture_id, fetched_at)))  # in capture order

    def add_page(self, record: ArchivedResponse, capture_id: int, fetched_at: str) -> None:
        info = rules_for(self.profile, record.url).classify(record.url)
        if info.kind not in ("listing", "article"):
            return
        body = self._body(record)
        entity, encoding = (record.entity, record.header("Content-Encoding")) if body is None else (body, None)
        self.submit(
            ("page", (record.url, record.status, record.headers, entity, encoding, info, capture_id, fetched_at))
        )

    def submit(self, job: tuple) -> None:
        """Parse a page: in a worker process when there is a pool, overlapping the reading.

        Pages go to the workers in batches, so the pool's per-message cost is paid
        once per batch rather than once per page.
        """
        if self.pool is None:
            self._catalogue(_page_job(job))
            return
        self.batch.append(job)
        if len(self.batch) < BATCH:
            return
        self.pending.append(self.pool.apply_async(_page_jobs, (self.batch,)))
        self.batch = []
        while self.pending and (self.pending[0].ready() or len(self.pending) > QUEUED_BATCHES):
            for result in self.pending.popleft().get():
                self._catalogue(result)

    def drain(self) -> None:
        """Parse what is left and catalogue every submitted page, in submission (= capture) order."""
        if self.batch:
            self.pending.append(self.pool.apply_async(_page_jobs, (self.batch,)))  # type: ignore[union-attr]
            self.batch = []
        while self.pending:
            for result in self.pending.popleft().get():
                self._catalogue(result)

    def _catalogue(self, result: tuple[str, object] | None) -> None:
        """One worker result, taken in capture order.

        A listing's summaries are noted; an article gets the summary its last listing
        gave (as in the crawl); a 304 touches the article, a 404/410 marks it gone.
        """
        if result is None:
            return
        kind, value = result
        if kind == "listing":
            self.summaries.update(value)  # type: ignore[arg-type]
            return
        if kind == "outcome":
            status, article_id, capture_id, fetched_at = value  # type: ignore[misc]
            if status == 304:
                self.catalogue.touch_article(article_id, fetched_at, capture_id)
            else:
                self.catalogue.mark_gone(article_id, fetched_at, capture_id)
            return
        article: dict = value  # type: ignore[assignment]
        article["summary"] = self.summaries.get(article["id"])
        outcome = self.catalogue.upsert_article(article, article["capture_id"], article["fetched_at"])
        self.report.versions += outcome != "unchanged"
        self.report.articles += outcome == "new"

    def _body(self, record: ArchivedResponse) -> bytes | None:
        """A revisit's body is its original's, read from wherever that record is."""
        if record.record_type != "revisit":
            return None
        original = self.originals.get(record.refers_to or "")
        if original is None:
            self.report.problems.append(f"revisit {record.record_id} refers to unknown record {record.refers_to}")
            return b""
        return read_record(*original).decoded_body()


_PROFILE: Profile | None = None


def _init_worker(profile: Profile) -> None:
    global _PROFILE  # one profile per worker process, set once
    _PROFILE = profile


_RULES: dict[tuple[str, str], UrlRules] = {}
BATCH = 32  # pages per message to a worker
QUEUED_BATCHES = 16  # batches in flight before the reader waits: bounds memory


def rules_for(profile: Profile, url: str) -> UrlRules:
    """The URL rules with the record's own host as the site (one per host; the reader and each worker keep theirs)."""
    host = url.split("/")[2].lower() if "//" in url else ""
    key = (profile.name, host)
    if key not in _RULES:
        _RULES[key] = UrlRules(profile, (host,))
    return _RULES[key]


def _page_jobs(jobs: list[tuple]) -> list[tuple[str, object] | None]:
    return [_page_job(job) for job in jobs]


def _page_job(job: tuple[str, tuple]) -> tuple[str, object] | None:
    """A listing page to its {article id: summary}, an article page to its catalogue row values, or None.

    Runs in a worker process; the crawl's writer reads pages with the same code.
    An outcome (304, 404/410) passes through, so it is catalogued in capture order.
    """
    if job[0] == "outcome":
        return job
    url, status, headers, entity, encoding, info, capture_id, fetched_at = job[1]
    response = text_response(url, status, headers, decode_entity(entity, encoding))
    if response is None or _PROFILE is None:
        return None
    if info.kind == "listing":
        template = listing_template(_PROFILE, response)
        entries = listing_entries(response, template, rules_for(_PROFILE, url))
        return "listing", {entry.article_id: summary for entry, summary in entries}
    item = article_item(response, info, _PROFILE, summary=None, capture_id=capture_id, fetched_at=fetched_at)
    return ("article", vars(item)) if item.id and (item.paragraphs or item.title) else None


def reindex(warc_dir: Path, catalogue_path: Path, profile: str = "mps") -> ReindexReport:
    """Rebuild `catalogue_path` from every WARC file in `warc_dir`."""
    files = warc_files(Path(warc_dir))
    catalogue_path = Path(catalogue_path)
    building = catalogue_path.with_name(catalogue_path.name + ".reindex")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    report = ReindexReport()
    catalogue = Catalogue(building)
    catalogue.commit()
    catalogue.conn.execute("PRAGMA journal_mode=OFF")  # a scratch file until it is swapped in: no journal,
    catalogue.conn.execute("PRAGMA synchronous=OFF")  # no syncs; made durable (WAL, FULL) before the swap
    catalogue.conn.execute("PRAGMA cache_size=-262144")  # 256 MB of page cache for the bulk load
    catalogue.disable_search()  # filled once at the end: far cheaper than a trigger per row
    catalogue.drop_indexes()  # likewise the secondary indexes
    loaded = load_profile(profile)
    _init_worker(loaded)
    workers = min(os.cpu_count() or 1, 4)
    with get_context("fork").Pool(workers, _init_worker, (loaded,)) if workers > 1 else nullcontext() as pool:
        reindexer = Reindexer(catalogue, loaded, report, pool)
        for path in files:
            reindexer.add_file(path)
            catalogue.commit()
    catalogue.enable_search()
    catalogue.build_indexes()
    catalogue.commit()
    catalogue.conn.execute("PRAGMA journal_mode=WAL")
    catalogue.conn.execute("PRAGMA synchronous=FULL")
    catalogue.conn.execute(
        "UPDATE runs SET started = (SELECT MIN(fetched_at) FROM captures WHERE run_id = runs.id),"
        " finished = (SELECT MAX(fetched_at) FROM captures WHERE run_id = runs.id)"
    )
    catalogue.close()
    if catalogue_path.exists():
        _checkpoint(catalogue_path)
        os.replace(catalogue_path, catalogue_path.with_name(catalogue_path.name + ".bak"))
    os.replace(building, catalogue_path)
    return report


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the database file so the file alone is the whole catalogue."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
