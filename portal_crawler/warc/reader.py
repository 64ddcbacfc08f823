"""Reading WARC files back: one record at a pointer, every record of a file with its digests.

The reading side of `writer.py`, used by `show`, `verify`, `replay` and `reindex`.
Records are read one gzip member at a time (`members`), so a pointer from the
catalogue costs one member's inflation and a broken member is named by file and
offset. Reindex's sequential reader is `captures.iter_records` (FastWARC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warcio.recordloader import ArcWarcRecord

from portal_crawler.warc.archived import (
    ArchivedResponse,
    TornRecordError,
    WarcReadError,
    archived_response,
    parse_member,
)
from portal_crawler.warc.captures import iter_records
from portal_crawler.warc.members import iter_members, member_at, zeros_only
from portal_crawler.warc.records import payload_digest

__all__ = [
    "ArchivedResponse",
    "RecordSummary",
    "ScanResult",
    "TornRecordError",
    "WarcReadError",
    "check_digests",
    "digest_problems",
    "iter_records",
    "read_record",
    "scan_file",
]


@dataclass(frozen=True)
class RecordSummary:
    """One record of a file as found by `scan_file`."""

    offset: int
    length: int
    record_type: str
    record_id: str
    url: str | None
    warc_date: str | None
    payload_digest: str | None
    digest_problems: tuple[str, ...] = ()


@dataclass
class ScanResult:
    """Every whole record of a file; `good_end` is the offset after the last whole record."""

    path: Path
    size: int
    good_end: int = 0
    records: list[RecordSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    torn: bool = False  # the file ends inside a record (or in NULs): truncating at good_end repairs it


def read_record(path: Path, offset: int) -> ArchivedResponse:
    """The response or revisit record at `offset` (a catalogue pointer)."""
    path = Path(path)
    member = member_at(path, offset)
    parse_member(member, path, offset, raw_block=True)  # the whole block is there
    return archived_response(parse_member(member, path, offset), path, offset)


def digest_problems(record: ArcWarcRecord) -> list[str]:
    """Recompute WARC-Block-Digest (and WARC-Payload-Digest of a response) of a raw-block record.

    The digests cover the stored bytes, so nothing is ever decoded here.
    """
    problems, fields = [], record.rec_headers
    checks = [("WARC-Block-Digest", record.block)]
    if record.rec_type == "response":
        checks.append(("WARC-Payload-Digest", record.block.partition(b"\r\n\r\n")[2]))
    for name, data in checks:
        stored = fields.get_header(name)
        if stored is not None and stored.lower() != payload_digest(data).lower():
            problems.append(f"{name} mismatch: stored {stored}, computed {payload_digest(data)}")
    return problems


def check_digests(path: Path, offset: int) -> list[str]:
    """Digest problems of the record at `offset`; empty when it is intact."""
    path = Path(path)
    return digest_problems(parse_member(member_at(path, offset), path, offset, raw_block=True))


def scan_file(path: Path) -> ScanResult:
    """Walk every gzip member of a file: whole records, digest problems, a torn tail."""
    path = Path(path)
    result = ScanResult(path=path, size=path.stat().st_size)
    try:
        for offset, length, member in iter_members(path):
            record = parse_member(member, path, offset, raw_block=True)
            result.records.append(_summary(record, offset, length))
            result.good_end = offset + length
    except WarcReadError as error:
        result.problems.append(str(error))
        result.torn = isinstance(error, TornRecordError) or zeros_only(path, result.good_end)
    return result


def _summary(record: ArcWarcRecord, offset: int, length: int) -> RecordSummary:
    fields = record.rec_headers
    return RecordSummary(
        offset=offset,
        length=length,
        record_type=record.rec_type,
        record_id=fields.get_header("WARC-Record-ID"),
        url=fields.get_header("WARC-Target-URI"),
        warc_date=fields.get_header("WARC-Date"),
        payload_digest=fields.get_header("WARC-Payload-Digest"),
        digest_problems=tuple(digest_problems(record)),
    )
