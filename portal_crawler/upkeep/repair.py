"""`verify --repair`: undo what a crash leaves behind, and nothing more.

A crash leaves three things: a torn last record no catalogue row points at
(cut off into `archive/quarantine/`, NUL padding included), orphan records
written but never catalogued (catalogued now, article_id NULL), and, from
older releases, rows whose record sits at another offset (re-pointed). Every
other problem is damage a crash cannot cause (a catalogued record past the end
of a file, a flipped byte, a missing file, a row whose record is gone): repair
refuses it, keeps every catalogue row, and says why in one `repair-refused`
line per damaged place. Every catalogue write goes through the Catalogue.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from portal_crawler.catalogue import CapturePointer, Catalogue
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.upkeep.scanning import Problem, ScannedArchive
from portal_crawler.warc.reader import RecordSummary, WarcReadError, read_record
from portal_crawler.warc.records import CAPTURE_TYPES, RecordPointer

RESTORE = "nothing was cut and every catalogue row is kept; restore it from a backup"


def repair_archive(paths: ArchivePaths, catalogue: Catalogue) -> tuple[list[str], list[Problem]]:
    """(what was repaired, why the rest was refused): torn tails cut (fsynced), then the catalogue reconciled."""
    archive = ScannedArchive(paths, catalogue)
    refused = _file_refusals(archive) + _row_refusals(archive)
    torn = [name for name in archive.scans if archive.tail_state(name) == "torn"]
    done = [_cut_tail(archive, name) for name in torn]
    for name in torn:
        archive.scan(name)
    with catalogue.transaction():
        done += _repoint(archive) + _catalogue_orphans(archive)
        relinked, unlinked = _relink_articles(catalogue)
    return done + relinked, refused + unlinked


def _refusal(file: str | None, offset: int | None, record_id: str | None, why: str) -> Problem:
    return Problem("repair-refused", file, offset, record_id, why)


def _file_refusals(archive: ScannedArchive) -> list[Problem]:
    """One line per damaged file: records the catalogue points at are past its end, or a record is broken."""
    refused = [
        _refusal(str(archive.path(n)), None, None, f"cannot read it ({why}); {RESTORE}")
        for n, why in archive.unscannable.items()
    ]
    for name, scan in archive.scans.items():
        state, path = archive.tail_state(name), str(archive.path(name))
        lost = archive.rows_from(name, scan.good_end)
        if state == "truncated":
            why = (
                f"the file ends inside a record, but {len(lost)} catalogued records lie at or after this offset"
                f" (capture {lost[0].id} first); a crash cannot lose a catalogued record, so this is damage: {RESTORE}"
            )
            refused.append(_refusal(path, scan.good_end, lost[0].warc_record_id, why))
        elif state == "unreadable":
            record_id = lost[0].warc_record_id if lost and lost[0].warc_offset == scan.good_end else None
            why = f"a damaged record inside the file, not a torn tail: {RESTORE}"
            refused.append(_refusal(path, scan.good_end, record_id, why))
    return refused


def _row_refusals(archive: ScannedArchive) -> list[Problem]:
    """Rows repair cannot mend: a pointer outside warc/, a missing file, a record gone from a whole file."""
    refused: list[Problem] = []
    missing: dict[str, list[CapturePointer]] = {}
    for row in archive.rows:
        path = archive.file(row.warc_filename)
        if path is None:
            why = f"capture {row.id} names {row.warc_filename!r}, outside warc/; the row is kept for a person to mend"
            refused.append(_refusal(str(archive.paths.warc), row.warc_offset, row.warc_record_id, why))
        elif not path.is_file():
            missing.setdefault(str(path), []).append(row)
        elif row.warc_record_id not in archive.by_id and archive.intact(row.warc_filename):
            why = f"capture {row.id} ({row.url}): its record is not in the file (cut short?); {RESTORE}"
            refused.append(_refusal(str(path), row.warc_offset, row.warc_record_id, why))
    for missing_file, rows in missing.items():
        why = f"the file is missing and {len(rows)} captures point into it; {RESTORE}"
        refused.append(_refusal(missing_file, None, None, why))
    return refused


def _cut_tail(archive: ScannedArchive, name: str) -> str:
    """Copy the torn tail to quarantine (fsynced), then truncate the file (fsynced)."""
    scan, quarantine = archive.scans[name], archive.paths.quarantine
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


def _repoint(archive: ScannedArchive) -> list[str]:
    """Re-point rows whose record (same ID, type and URI) is whole at another place."""
    done = []
    for row in archive.rows:
        found = archive.by_id.get(row.warc_record_id)
        if found is None:
            continue
        name, record = found
        same_record = (record.record_type, record.url) == (row.record_type, row.url)
        if not same_record or (name, record.offset, record.length) == (
            row.warc_filename,
            row.warc_offset,
            row.warc_length,
        ):
            continue
        archive.catalogue.repoint_capture(row.id, name, record.offset, record.length)
        done.append(
            f"capture {row.id} ({row.url}): re-pointed from {row.warc_filename} offset"
            f" {row.warc_offset} to {name} offset {record.offset}"
        )
    return done


def _relink_articles(catalogue: Catalogue) -> tuple[list[str], list[Problem]]:
    """Point each article whose capture row is gone at its latest remaining capture; refuse the rest.

    A version whose capture is gone is refused too: pointing it at another capture
    would claim that capture holds content it does not.
    """
    done, refused, db = [], [], str(catalogue.path)
    for article, gone in catalogue.dangling_articles():
        latest = catalogue.latest_capture_of(article)
        if latest is not None:
            catalogue.relink_article(article, latest)
            done.append(f"article {article}: capture {gone} is gone; now points at capture {latest}")
        else:
            refused.append(
                _refusal(
                    db,
                    None,
                    None,
                    f"article {article}: capture {gone} is gone and no capture of it remains; the row is kept",
                )
            )
    for article, version, gone in catalogue.dangling_versions():
        refused.append(
            _refusal(db, None, None, f"article {article} version {version}: capture {gone} is gone; the row is kept")
        )
    return done, refused


def _catalogue_orphans(archive: ScannedArchive) -> list[str]:
    """A capture row for each orphan response or revisit record, article_id left NULL.

    `reindex` re-extracts articles from such captures; a normal crawl refetches them.
    """
    known = archive.catalogue.record_ids()
    done = []
    for name, scan in archive.scans.items():
        orphans = [r for r in scan.records if r.record_type in CAPTURE_TYPES and r.record_id not in known]
        run_id = _run_of(archive, name) if orphans else None
        done += [_catalogue_orphan(archive, name, record, run_id) for record in orphans]
    return [line for line in done if line]


def _catalogue_orphan(archive: ScannedArchive, name: str, summary: RecordSummary, run_id: int | None) -> str:
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
        fetched_at=record.warc_date[:19] + "Z",
        content_type=record.header("Content-Type"),
        etag=record.header("ETag"),
        last_modified=record.header("Last-Modified"),
        refers_to=record.refers_to,
    )
    return (
        f"catalogued orphan {record.record_type} {record.record_id} of {record.url}"
        f" ({name} offset {summary.offset}) as capture {capture_id}"
    )


def _run_of(archive: ScannedArchive, name: str) -> int | None:
    """The run that wrote a file, from the `run-id` field of its warcinfo record, if catalogued."""
    with open(archive.path(name), "rb") as fh:
        first = next(iter(ArchiveIterator(fh)), None)
        fields = first.content_stream().read().decode("utf-8", "replace") if first else ""
    match = re.search(r"^run-id: *(\d+)\s*$", fields, re.MULTILINE) if first and first.rec_type == "warcinfo" else None
    if match is None or not archive.catalogue.run_exists(int(match.group(1))):
        return None
    return int(match.group(1))
