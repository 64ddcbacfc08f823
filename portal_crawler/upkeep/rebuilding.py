"""What reindex does with each WARC file and record: captures, scope, pages, damage, in capture order.

Every record read is catalogued as a capture (it is in the archive). A page
of the run's own scope (scheme, host and port: the file's warcinfo `scope`)
is then read by `catalogue.ingest.read_page` in the worker pool and applied by
`record_page` in capture order, exactly as the crawl's writer does; a capture
of any other host or port is never an article or a listing. A damaged record
is reported with its file and offset and reading goes on after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from portal_crawler import __version__
from portal_crawler.catalogue import Catalogue
from portal_crawler.catalogue.ingest import PageCapture, PageReading, record_page
from portal_crawler.catalogue.rebuild import note_run
from portal_crawler.extraction.profile import Profile
from portal_crawler.extraction.urls import ARTICLE_KINDS, ARTICLE_STATUSES, LISTING_KINDS, UrlInfo, UrlRules
from portal_crawler.upkeep.page_pool import PageJob, PagePool, rules_for
from portal_crawler.warc.archived import ArchivedResponse, WarcReadError
from portal_crawler.warc.captures import records_past_damage
from portal_crawler.warc.records import RecordPointer
from portal_crawler.warc.revisit import resolve_revisit
from portal_crawler.warc.warcinfo import WarcInfo, first_request_url, read_warcinfo


@dataclass(frozen=True)
class Damage:
    """A place in a WARC file that could not be read, and where reading went on."""

    file: str
    offset: int
    reason: str
    resumed_at: int | None = None

    def line(self) -> str:
        after = "nothing after it was readable" if self.resumed_at is None else f"read on from offset {self.resumed_at}"
        return f"{self.file}: offset {self.offset}: {self.reason} ({after})"


@dataclass
class ReindexReport:
    files: int = 0
    captures: int = 0
    articles: int = 0
    versions: int = 0
    out_of_scope: int = 0  # captures of another host or port: catalogued as captures only
    problems: list[str] = field(default_factory=list)  # pages that are not articles, revisits without original
    damage: list[Damage] = field(default_factory=list)  # unreadable places: the command then exits 1

    @property
    def exit_code(self) -> int:
        return 1 if self.damage else 0


@dataclass(frozen=True)
class RunFile:
    """One WARC file as its run saw it: the run's ID and the hosts it was allowed to fetch."""

    path: Path
    run_id: int | None
    scope: tuple[str, ...]
    rules: UrlRules


class Rebuild:
    """Feeds WARC files, in order, into a fresh catalogue."""

    def __init__(
        self, catalogue: Catalogue, profile: Profile, pages: PagePool, report: ReindexReport, known_runs: set[int]
    ) -> None:
        self.catalogue, self.profile, self.pages, self.report = catalogue, profile, pages, report
        self.runs = set(known_runs)  # in the runs table already (copied from the old catalogue)
        self.scopes: dict[int, tuple[str, ...]] = {}
        self.originals: dict[str, tuple[Path, int]] = {}  # response record ID -> where it is
        self.summaries: dict[str, str | None] = {}  # article ID -> the summary its last listing gave

    def add_file(self, path: Path) -> None:
        run = self._run_file(path, read_warcinfo(path))
        for offset, length, record in records_past_damage(path, self._damaged):
            self.add_record(run, offset, length, record)
        self._catalogue(self.pages.drain())
        self.report.files += 1

    def _run_file(self, path: Path, info: WarcInfo) -> RunFile:
        run_id = info.run_id
        if run_id is not None and run_id not in self.runs:
            self.runs.add(run_id)
            note_run(self.catalogue, run_id, info.get("mode") or "unknown", info.get("profile"), __version__)
        scope = self._scope(path, info)
        return RunFile(path, run_id, scope, rules_for(self.profile, scope))

    def _scope(self, path: Path, info: WarcInfo) -> tuple[str, ...]:
        """The file's `scope`; for a file written by 0.1.0 (none), the profile's hosts and the run's first host.

        A 0.1.0 run's first request is its start URL or robots.txt on the start
        URL's host, so the host:port of the first request record in the run's
        first file (files sort by time) is the host the run was pointed at.
        """
        scope = info.scope
        if scope is None and info.run_id in self.scopes:
            scope = self.scopes[info.run_id]
        if scope is None:
            first = first_request_url(path)
            scope = tuple(sorted({*self.profile.hosts, *([urlsplit(first).netloc.lower()] if first else [])}))
        if info.run_id is not None:
            self.scopes.setdefault(info.run_id, scope)
        return scope

    def _damaged(self, error: WarcReadError, resumed_at: int | None) -> None:
        self.report.damage.append(Damage(error.path.name, error.offset, error.reason, resumed_at))

    def add_record(self, run: RunFile, offset: int, length: int, record: ArchivedResponse) -> None:
        capture_id = self._add_capture(run, offset, length, record)
        if record.record_type == "response":
            self.originals[record.record_id] = (run.path, offset)
        if not record.payload_intact():
            reason = "WARC-Payload-Digest differs from the stored entity: catalogued as a capture, not read as a page"
            self.report.damage.append(Damage(run.path.name, offset, reason, offset + length))
        elif not run.rules.in_scope(record.url):
            self.report.out_of_scope += 1
        else:
            self._add_page(run, record, capture_id)

    def _add_capture(self, run: RunFile, offset: int, length: int, record: ArchivedResponse) -> int:
        digest = record.payload_digest or ""
        pointer = RecordPointer(
            run.path.name, offset, length, record.record_id, record.record_type, digest, record.warc_date, 0, 0
        )
        self.report.captures += 1
        return self.catalogue.add_capture(
            run.run_id or 0,
            pointer,
            url=record.url,
            status=record.status,
            content_type=record.header("Content-Type"),
            fetched_at=_second(record.warc_date),
            etag=record.header("ETag"),
            last_modified=record.header("Last-Modified"),
            refers_to=record.refers_to,
        )

    def _add_page(self, run: RunFile, record: ArchivedResponse, capture_id: int) -> None:
        info = run.rules.classify(record.url)
        if not _is_page(info, record.status):
            return
        source = record
        if record.record_type == "revisit" and record.status == 200:
            source = self._original(record)  # type: ignore[assignment]
            if source is None:
                return
        capture = PageCapture(
            record.url, record.status, source.headers, source.entity, capture_id, _second(record.warc_date)
        )
        self._catalogue(self.pages.submit(PageJob(capture, info, run.scope)))

    def _original(self, record: ArchivedResponse) -> ArchivedResponse | None:
        """The response a revisit stands for (its entity, with the headers that say how it is encoded)."""
        try:
            original = resolve_revisit(record, self.originals.get)
        except WarcReadError as error:
            self.report.problems.append(
                f"revisit {record.record_id} of {record.url}: its original is unreadable: {error}"
            )
            return None
        if original is None:
            self.report.problems.append(f"revisit {record.record_id} refers to unknown record {record.refers_to}")
        return original

    def _catalogue(self, readings: list[PageReading]) -> None:
        """Pages' readings, in capture order: a listing's summaries noted, an article catalogued."""
        for reading in readings:
            if reading.kind == "listing":
                self.summaries.update(reading.summaries or {})
                continue
            summary = self.summaries.get(reading.article_id or "") if reading.kind == "article" else None
            outcome = record_page(self.catalogue, reading, summary)
            if reading.problem:
                self.report.problems.append(reading.problem)
            self.report.versions += outcome in ("new", "updated")
            self.report.articles += outcome == "new"


def _is_page(info: UrlInfo, status: int) -> bool:
    """A listing page or answer, or an article URL's answer the catalogue records (200, 304, 404, 410)."""
    return (info.kind in LISTING_KINDS and status == 200) or (info.kind in ARTICLE_KINDS and status in ARTICLE_STATUSES)


def _second(warc_date: str) -> str:
    """WARC-Date (microseconds) as the catalogue's fetched_at (seconds), as the writer stores it."""
    return warc_date[:19] + "Z"
