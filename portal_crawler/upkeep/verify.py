"""`verify`: every catalogue pointer resolves to an intact WARC record; `--repair` after a crash.

Each problem names its file, offset and record ID, as `warcio check` does. Kinds:
`missing-file`, `unreadable`, `wrong-record` (a pointer that resolves to another record),
`digest`, `torn-tail` (a file ending inside a record no row points at: a crash's tear),
`truncated` (a file ending before records the catalogue points at: damage),
`bad-pointer` (a capture naming a file outside warc/), `orphan` (a response or revisit
record no capture row points at), `dangling-article` (an article or version whose
capture_id names no capture row) and `repair-refused` (why `--repair` left something
alone). The archive lock is held throughout (shared, when the archive is read-only), so a
running crawl's open file and uncommitted rows are never mistaken for damage.

Repair (repair.py) undoes what a crash leaves behind and nothing more.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from portal_crawler.catalogue import CapturePointer, Catalogue, CatalogueError
from portal_crawler.core.lock import ArchiveLock, LockHeld
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.upkeep.repair import repair_archive
from portal_crawler.upkeep.scanning import Problem, ScannedArchive
from portal_crawler.warc.reader import RecordSummary, WarcReadError, check_digests, read_record
from portal_crawler.warc.records import CAPTURE_TYPES

__all__ = ["Problem", "VerifyReport", "verify_archive"]


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
    paths = ArchivePaths(Path(archive_dir))
    Catalogue.reader(paths.catalogue).close()  # refuses a missing or foreign file before anything is made
    with _archive_lock(paths, exclusive=repair):
        catalogue = Catalogue(paths.catalogue, create=False) if repair else Catalogue.reader(paths.catalogue)
        try:
            repaired, refused = repair_archive(paths, catalogue) if repair else ([], [])
            report = _check(ScannedArchive(paths, catalogue))
        finally:
            catalogue.close()
    report.repaired, report.problems = repaired, report.problems + refused
    return report


@contextmanager
def _archive_lock(paths: ArchivePaths, *, exclusive: bool) -> Iterator[None]:
    """The archive lock; on an archive we cannot write to, a shared hold of its lock file (if it has one)."""
    lock: ArchiveLock | None = None
    try:
        lock = ArchiveLock(paths.root).acquire()
    except OSError as error:
        if exclusive or error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise CatalogueError(f"cannot take the archive lock {paths.lock}: {error.strerror or error}") from None
    if lock is None:
        with _shared_lock(paths.lock):
            yield
        return
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _shared_lock(path: Path) -> Iterator[None]:
    """flock(LOCK_SH) on a lock file opened read-only: a crawl holding it (LOCK_EX) is still noticed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield  # no run ever locked this read-only archive
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(path, os.pread(fd, 32, 0).decode(errors="replace").strip()) from None
        yield
    finally:
        os.close(fd)


# -- checks ------------------------------------------------------------------------------


def _check(archive: ScannedArchive) -> VerifyReport:
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


def _file_problems(archive: ScannedArchive) -> list[Problem]:
    """Digest mismatches, a record that cannot be read, a torn tail, lost records: file by file."""
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
        state = archive.tail_state(name)
        if state is not None:
            reason = scan.problems[0].split(f"offset {scan.good_end}: ", 1)[-1]
            kind, message = _tail_message(archive, name, state, reason)
            problems.append(Problem(kind, path, scan.good_end, pointed.get((name, scan.good_end)), message))
    return problems


def _tail_message(archive: ScannedArchive, name: str, state: str, reason: str) -> tuple[str, str]:
    scan = archive.scans[name]
    after = f"{scan.size - scan.good_end} bytes after the last whole record"
    if state == "torn":
        return "torn-tail", f"file ends inside a record ({reason}): {after}; `verify --repair` cuts them off"
    if state == "truncated":
        lost = len(archive.rows_from(name, scan.good_end))
        return "truncated", (
            f"file ends inside a record ({reason}) with {lost} catalogued records at or after this offset:"
            " a crash cannot lose those; restore the file from a backup"
        )
    return "unreadable", f"{reason}; the rest of the file could not be scanned"


def _pointer_problems(archive: ScannedArchive, row: CapturePointer) -> list[Problem]:
    """Does the capture row's (file, offset) hold the record the row names?"""
    path = archive.file(row.warc_filename)

    def problem(kind: str, message: str) -> list[Problem]:
        where = str(path or archive.paths.warc)
        return [Problem(kind, where, row.warc_offset, row.warc_record_id, f"capture {row.id} ({row.url}): {message}")]

    if path is None:
        return problem("bad-pointer", f"its file {row.warc_filename!r} is outside warc/; it is not read")
    if not path.is_file():
        return problem("missing-file", "its WARC file does not exist")
    scan = archive.scans.get(row.warc_filename)
    if scan and archive.tail_state(row.warc_filename) == "unreadable" and scan.good_end == row.warc_offset:
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
        for name, got, want in zip(names, found, expected, strict=True)
        if got != want and not (name == "length" and got is None)
    ]


def _orphans(archive: ScannedArchive) -> list[Problem]:
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


def _dangling(archive: ScannedArchive) -> list[Problem]:
    catalogue, db = archive.catalogue, str(archive.catalogue.path)
    problems = [
        Problem("dangling-article", db, None, None, f"article {article}: capture_id {capture} names no capture row")
        for article, capture in catalogue.dangling_articles()
    ]
    return problems + [
        Problem(
            "dangling-article",
            db,
            None,
            None,
            f"article {article} version {version}: capture_id {capture} names no capture row",
        )
        for article, version, capture in catalogue.dangling_versions()
    ]
