"""`verify`: every catalogue pointer resolves to an intact WARC record; `--repair` after a crash.

Each problem names its file, offset and record ID, as `warcio check` does. Kinds:
`missing-file`, `unreadable`, `wrong-record` (a pointer that resolves to another record),
`digest`, `torn-tail` (a file ending inside a record), `orphan` (a response or revisit
record no capture row points at) and `dangling-article` (an article or version whose
capture_id names no capture row). The archive lock is held throughout, so a running
crawl's open file and uncommitted rows are never mistaken for damage.

Repair undoes what a crash leaves behind and nothing more: a torn tail record is cut
off (its bytes kept in `archive/quarantine/`), capture rows whose record is gone from
an intact file are removed, moved records are re-pointed, and orphan records are
catalogued. A flipped byte or a missing file is real damage: it is reported, never cut.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from portal_crawler.catalogue import CapturePointer, Catalogue
from portal_crawler.core.lock import ArchiveLock
from portal_crawler.warc.reader import (
    RecordSummary,
    ScanResult,
    WarcReadError,
    check_digests,
    read_record,
    scan_file,
)
from portal_crawler.warc.records import CAPTURE_TYPES, RecordPointer


@dataclass
class Problem:
    """One thing wrong with the archive, located as precisely as it is known."""

    kind: str
    file: str | None
    offset: int | None
    record_id: str | None
    message: str

    def line(self) -> str:
        """`<file>: offset <N>: <record id>: <message>`, leaving out what is unknown."""
        where = None if self.offset is None else f"offset {self.offset}"
        return ": ".join(p for p in (self.file, where, self.record_id, self.message) if p)


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    captures_checked: int = 0
    records_scanned: int = 0
    files: int = 0
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_archive(archive_dir: Path, *, repair: bool = False) -> VerifyReport:
    """Check the archive (after repairing it when asked); raises CatalogueError or LockHeld."""
    archive_dir = Path(archive_dir)
    catalogue = Catalogue(archive_dir / "catalogue.db", create=False)
    try:
        with ArchiveLock(archive_dir):
            repaired = _repair(archive_dir, catalogue) if repair else []
            report = _check(_Archive(archive_dir, catalogue))
    finally:
        catalogue.close()
    report.repaired = repaired
    return report


class _Archive:
    """The scanned WARC files of one archive and its catalogue."""

    def __init__(self, archive_dir: Path, catalogue: Catalogue) -> None:
        self.dir, self.warc_dir, self.catalogue = archive_dir, archive_dir / "warc", catalogue
        self.rows = list(catalogue.iter_captures())
        self.scans: dict[str, ScanResult] = {}
        self.unscannable: dict[str, str] = {}
        self.at: dict[tuple[str, int], RecordSummary] = {}
        self.by_id: dict[str, tuple[str, RecordSummary]] = {}
        named = {row.warc_filename for row in self.rows if self.path(row.warc_filename).is_file()}
        for name in sorted(named | {p.name for p in self.warc_dir.glob("*.warc.gz")}):
            self.scan(name)

    def path(self, name: str) -> Path:
        return self.warc_dir / name

    def scan(self, name: str) -> None:
        try:
            self.scans[name] = result = scan_file(self.path(name))
        except OSError as error:
            self.unscannable[name] = error.strerror or str(error)
            return
        for record in result.records:
            self.at[(name, record.offset)] = record
            self.by_id[record.record_id] = (name, record)

    def intact(self, name: str) -> bool:
        return name in self.scans and not self.scans[name].problems


# -- checks ------------------------------------------------------------------------------


def _check(archive: _Archive) -> VerifyReport:
    report = VerifyReport(
        captures_checked=len(archive.rows),
        files=len(archive.scans) + len(archive.unscannable),
        records_scanned=sum(len(s.records) for s in archive.scans.values()),
    )
    problems = _file_problems(archive)
    for row in archive.rows:
        problems += _pointer_problems(archive, row)
    report.problems = problems + _orphans(archive) + _dangling(archive)
    return report


def _file_problems(archive: _Archive) -> list[Problem]:
    """Digest mismatches, a record that cannot be read, a torn tail: file by file."""
    pointed = {(row.warc_filename, row.warc_offset): row.warc_record_id for row in archive.rows}
    problems = [
        Problem("unreadable", str(archive.path(name)), None, None, reason)
        for name, reason in archive.unscannable.items()
    ]
    for name, scan in archive.scans.items():
        path = str(archive.path(name))
        problems += [
            Problem("digest", path, r.offset, r.record_id, message)
            for r in scan.records
            for message in r.digest_problems
        ]
        for text in scan.problems:
            reason = text.split(f"offset {scan.good_end}: ", 1)[-1]
            record_id = pointed.get((name, scan.good_end))
            if scan.torn:
                message = (
                    f"file ends inside a record ({reason}): {scan.size - scan.good_end} bytes"
                    " after the last whole record; `verify --repair` cuts them off"
                )
                problems.append(Problem("torn-tail", path, scan.good_end, record_id, message))
            else:
                message = f"{reason}; the rest of the file could not be scanned"
                problems.append(Problem("unreadable", path, scan.good_end, record_id, message))
    return problems


def _pointer_problems(archive: _Archive, row: CapturePointer) -> list[Problem]:
    """Does the capture row's (file, offset) hold the record the row names?"""
    path = archive.path(row.warc_filename)

    def problem(kind: str, message: str) -> list[Problem]:
        return [
            Problem(kind, str(path), row.warc_offset, row.warc_record_id, f"capture {row.id} ({row.url}): {message}")
        ]

    if not path.is_file():
        return problem("missing-file", "its WARC file does not exist")
    scan = archive.scans.get(row.warc_filename)
    if scan and scan.problems and not scan.torn and scan.good_end == row.warc_offset:
        return []  # the broken record the scan stopped at: reported once, with this record ID
    summary = archive.at.get((row.warc_filename, row.warc_offset))
    try:
        found = _record_at(path, row.warc_offset, summary)
    except WarcReadError as error:
        return problem("unreadable", error.reason)
    if wrong := _differences(row, found):
        return problem("wrong-record", "; ".join(wrong))
    if summary is None:  # beyond a damaged record: the scan did not check its digests
        return [p for message in check_digests(path, row.warc_offset) for p in problem("digest", message)]
    return []


def _record_at(path: Path, offset: int, summary: RecordSummary | None) -> tuple[str, str, str | None, int | None]:
    """Type, ID, target URI and length (None: unknown) of the record at `offset`."""
    if summary is not None:
        return summary.record_type, summary.record_id, summary.url, summary.length
    record = read_record(path, offset)  # not a record the scan reached: read alone, for the reason
    return record.record_type, record.record_id, record.url, None


def _differences(row: CapturePointer, found: tuple[str, str, str | None, int | None]) -> list[str]:
    expected = (row.record_type, row.warc_record_id, row.url, row.warc_length)
    names = ("record type", "record ID", "target URI", "length")
    return [
        f"{name} is {got!r}, the catalogue says {want!r}"
        for name, got, want in zip(names, found, expected)
        if got != want and not (name == "length" and got is None)
    ]


def _orphans(archive: _Archive) -> list[Problem]:
    catalogued = {row.warc_record_id for row in archive.rows}
    return [
        Problem(
            "orphan",
            str(archive.path(name)),
            r.offset,
            r.record_id,
            f"{r.record_type} record of {r.url} has no capture row (left by a crash between"
            " WARC write and catalogue commit); `verify --repair` catalogues it",
        )
        for name, scan in archive.scans.items()
        for r in scan.records
        if r.record_type in CAPTURE_TYPES and r.record_id not in catalogued
    ]


_DANGLING_ARTICLES = (
    "SELECT id, capture_id FROM articles WHERE capture_id IS NOT NULL AND capture_id NOT IN (SELECT id FROM captures)"
)
_DANGLING_VERSIONS = (
    "SELECT article_id, version, capture_id FROM versions WHERE capture_id IS NOT NULL"
    " AND capture_id NOT IN (SELECT id FROM captures)"
)


def _dangling(archive: _Archive) -> list[Problem]:
    conn, db = archive.catalogue.conn, str(archive.catalogue.path)
    problems = [
        Problem("dangling-article", db, None, None, f"article {article}: capture_id {capture} names no capture row")
        for article, capture in conn.execute(_DANGLING_ARTICLES)
    ]
    return problems + [
        Problem(
            "dangling-article",
            db,
            None,
            None,
            f"article {article} version {version}: capture_id {capture} names no capture row",
        )
        for article, version, capture in conn.execute(_DANGLING_VERSIONS)
    ]


# -- repair ------------------------------------------------------------------------------


def _repair(archive_dir: Path, catalogue: Catalogue) -> list[str]:
    """Cut torn tails (fsynced), then reconcile the catalogue in one transaction."""
    archive = _Archive(archive_dir, catalogue)
    torn = [name for name, scan in archive.scans.items() if scan.torn]
    done = [_cut_tail(archive, name) for name in torn]
    for name in torn:
        archive.scan(name)
    catalogue.conn.execute("BEGIN IMMEDIATE")
    try:
        done += _reconcile_captures(archive) + _relink_articles(catalogue) + _catalogue_orphans(archive)
    except BaseException:
        catalogue.conn.rollback()
        raise
    catalogue.conn.commit()
    return done


def _cut_tail(archive: _Archive, name: str) -> str:
    """Copy the torn tail to quarantine (fsynced), then truncate the file (fsynced)."""
    scan, quarantine = archive.scans[name], archive.dir / "quarantine"
    quarantine.mkdir(exist_ok=True)
    tail, serial = quarantine / f"{name}.{scan.good_end}.tail", 0
    while tail.exists():
        serial += 1
        tail = quarantine / f"{name}.{scan.good_end}.{serial}.tail"
    with open(archive.path(name), "r+b") as warc, open(tail, "xb") as kept:
        warc.seek(scan.good_end)
        shutil.copyfileobj(warc, kept)
        kept.flush()
        os.fsync(kept.fileno())
        _fsync_dir(quarantine)
        warc.truncate(scan.good_end)
        os.fsync(warc.fileno())
    return (
        f"truncated {name} at offset {scan.good_end}: the {scan.size - scan.good_end} bytes"
        f" of its torn last record are kept in {tail}"
    )


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reconcile_captures(archive: _Archive) -> list[str]:
    """Re-point rows whose record moved; remove rows whose record is gone from an intact file.

    Rows in a missing or damaged file are left alone: that needs a backup, not a repair.
    """
    done, conn = [], archive.catalogue.conn
    for row in archive.rows:
        found = archive.by_id.get(row.warc_record_id)
        if found is not None:
            name, record = found
            if (record.record_type, record.url) != (row.record_type, row.url) or (
                name,
                record.offset,
                record.length,
            ) == (row.warc_filename, row.warc_offset, row.warc_length):
                continue
            conn.execute(
                "UPDATE captures SET warc_filename = ?, warc_offset = ?, warc_length = ? WHERE id = ?",
                (name, record.offset, record.length, row.id),
            )
            done.append(
                f"capture {row.id} ({row.url}): re-pointed from {row.warc_filename} offset"
                f" {row.warc_offset} to {name} offset {record.offset}"
            )
        elif archive.intact(row.warc_filename):
            conn.execute("DELETE FROM captures WHERE id = ?", (row.id,))
            done.append(
                f"removed capture {row.id} ({row.url}): record {row.warc_record_id} is no longer in {row.warc_filename}"
            )
    return done


def _relink_articles(catalogue: Catalogue) -> list[str]:
    """Point each article at its latest remaining capture, or delete it so the next crawl refetches it.

    A version whose capture is gone keeps its content with capture_id NULL: pointing it at
    another capture would claim that capture holds content it does not.
    """
    done, conn = [], catalogue.conn
    for article, gone in conn.execute(_DANGLING_ARTICLES).fetchall():
        latest = conn.execute("SELECT max(id) FROM captures WHERE article_id = ?", (article,)).fetchone()[0]
        if latest is not None:
            conn.execute("UPDATE articles SET capture_id = ? WHERE id = ?", (latest, article))
            done.append(f"article {article}: capture {gone} is gone; now points at capture {latest}")
        else:
            conn.execute("DELETE FROM versions WHERE article_id = ?", (article,))
            conn.execute("DELETE FROM articles WHERE id = ?", (article,))
            done.append(f"deleted article {article}: no capture of it remains; the next crawl fetches it again")
    for article, version, gone in conn.execute(_DANGLING_VERSIONS).fetchall():
        conn.execute("UPDATE versions SET capture_id = NULL WHERE article_id = ? AND version = ?", (article, version))
        done.append(f"article {article} version {version}: capture {gone} is gone; capture_id set to NULL")
    return done


def _catalogue_orphans(archive: _Archive) -> list[str]:
    """A capture row for each orphan response or revisit record, article_id left NULL.

    `reindex` re-extracts articles from such captures; a normal crawl refetches them.
    """
    known = {row[0] for row in archive.catalogue.conn.execute("SELECT warc_record_id FROM captures")}
    done = []
    for name, scan in archive.scans.items():
        orphans = [r for r in scan.records if r.record_type in CAPTURE_TYPES and r.record_id not in known]
        run_id = _run_of(archive, name) if orphans else None
        done += [_catalogue_orphan(archive, name, record, run_id) for record in orphans]
    return [line for line in done if line]


def _catalogue_orphan(archive: _Archive, name: str, summary: RecordSummary, run_id: int | None) -> str:
    try:
        record = read_record(archive.path(name), summary.offset)
    except WarcReadError:
        return ""  # still reported as an orphan by the checks that follow
    pointer = RecordPointer(  # the catalogue keeps no request pointer: -1 / 0 are never stored
        filename=name,
        offset=summary.offset,
        length=summary.length,
        record_id=record.record_id,
        record_type=record.record_type,
        payload_digest=summary.payload_digest or "",
        warc_date=record.warc_date,
        request_offset=-1,
        request_length=0,
    )
    capture_id = archive.catalogue.add_capture(
        run_id,
        pointer,
        url=record.url,
        status=record.status,
        fetched_at=record.warc_date[:19] + "Z",  # type: ignore[arg-type]
        content_type=record.header("Content-Type"),
        etag=record.header("ETag"),
        last_modified=record.header("Last-Modified"),
        refers_to=record.refers_to,
    )
    return (
        f"catalogued orphan {record.record_type} {record.record_id} of {record.url}"
        f" ({name} offset {summary.offset}) as capture {capture_id}"
    )


def _run_of(archive: _Archive, name: str) -> int | None:
    """The run that wrote a file, from the `run-id` field of its warcinfo record, if catalogued."""
    with open(archive.path(name), "rb") as fh:
        first = next(iter(ArchiveIterator(fh)), None)
        fields = first.content_stream().read().decode("utf-8", "replace") if first else ""
    match = re.search(r"^run-id: *(\d+)\s*$", fields, re.MULTILINE) if first and first.rec_type == "warcinfo" else None
    if match is None:
        return None
    known = archive.catalogue.conn.execute("SELECT 1 FROM runs WHERE id = ?", (int(match.group(1)),)).fetchone()
    return int(match.group(1)) if known else None
