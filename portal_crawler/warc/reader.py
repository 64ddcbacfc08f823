"""Reading WARC files back: one record at a pointer, every record of a file, digests.

The reading side of `writer.py`, used by `show`, `verify`, `replay` and `reindex`.
Records are read one gzip member at a time, so a pointer from the catalogue
costs one member's inflation and a broken member is named by file and offset.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from portal_crawler.core.errors import Failure
from portal_crawler.warc.codings import DECODE_LIMIT, decode_entity
from portal_crawler.warc.records import CAPTURE_TYPES, Headers, header, payload_digest

CHUNK = 1 << 16


class WarcReadError(Failure):
    """A record that cannot be read back; the message names the file and offset."""

    def __init__(self, path: Path, offset: int, reason: str) -> None:
        super().__init__(f"{path}: offset {offset}: {reason}")
        self.path, self.offset, self.reason = path, offset, reason


class TornRecordError(WarcReadError):
    """The gzip member starting at `offset` runs into the end of the file (a crash mid-write)."""


@dataclass(frozen=True)
class ArchivedResponse:
    """A response or revisit record as read back from a WARC file."""

    record_type: str
    record_id: str
    url: str
    warc_date: str
    payload_digest: str | None
    refers_to: str | None
    status: int
    reason: str
    headers: Headers
    entity: bytes
    refers_to_url: str | None = None
    refers_to_date: str | None = None

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    def decoded_body(self, limit: int = DECODE_LIMIT) -> bytes:
        """The entity with its Content-Encoding (gzip, deflate, chained) undone, at most `limit` bytes."""
        return decode_entity(self.entity, self.header("Content-Encoding"), limit)


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


def _read_member(fh: BinaryIO, path: Path, offset: int) -> tuple[bytes, bytes] | None:
    """(compressed, inflated) bytes of the gzip member at `offset` (None at end of file)."""
    fh.seek(offset)
    inflater, raw, inflated = zlib.decompressobj(zlib.MAX_WBITS | 16), bytearray(), []
    while not inflater.eof:
        chunk = fh.read(CHUNK)
        if not chunk:
            if raw:
                raise TornRecordError(path, offset, "gzip member cut short by end of file")
            return None
        try:
            inflated.append(inflater.decompress(chunk))
        except zlib.error as error:
            raise WarcReadError(path, offset, f"not a readable gzip member ({error})") from None
        raw += chunk
    return bytes(raw[: len(raw) - len(inflater.unused_data)]), b"".join(inflated)


def _parse(member: bytes, path: Path, offset: int, *, raw_block: bool = False) -> ArcWarcRecord:
    """The one WARC record in an (inflated) member, its stream read to the end into `record.block`."""
    try:
        records = ArchiveIterator(BytesIO(member), no_record_parse=raw_block)
        record = next(records)
        record.block = record.raw_stream.read()
        declared = int(record.rec_headers.get_header("Content-Length") or -1)
    except (ArchiveLoadFailed, StopIteration, ValueError) as error:
        raise WarcReadError(path, offset, f"not a WARC record ({error or 'empty'})") from None
    if raw_block and len(record.block) != declared:
        raise WarcReadError(path, offset, "record block length differs from its Content-Length")
    return record


def _response(record: ArcWarcRecord, path: Path, offset: int) -> ArchivedResponse:
    if record.rec_type not in CAPTURE_TYPES or record.http_headers is None:
        raise WarcReadError(path, offset, f"a {record.rec_type} record, not a response or revisit")
    fields, http_headers = record.rec_headers, record.http_headers
    status, _, reason = http_headers.statusline.partition(" ")
    if not status.isdigit():
        raise WarcReadError(path, offset, f"unreadable HTTP status line {http_headers.statusline!r}")
    return ArchivedResponse(
        record_type=record.rec_type,
        record_id=fields.get_header("WARC-Record-ID"),
        url=fields.get_header("WARC-Target-URI"),
        warc_date=fields.get_header("WARC-Date"),
        payload_digest=fields.get_header("WARC-Payload-Digest"),
        refers_to=fields.get_header("WARC-Refers-To"),
        status=int(status),
        reason=reason,
        headers=list(http_headers.headers),
        entity=record.block,
        refers_to_url=fields.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=fields.get_header("WARC-Refers-To-Date"),
    )


def _member_at(path: Path, offset: int) -> bytes:
    """The inflated record at `offset`."""
    try:
        with open(path, "rb") as fh:
            member = _read_member(fh, path, offset)
    except OSError as error:
        raise WarcReadError(path, offset, error.strerror or str(error)) from None
    if member is None:
        raise WarcReadError(path, offset, "offset is at or past the end of the file")
    return member[1]


def read_record(path: Path, offset: int) -> ArchivedResponse:
    """The response or revisit record at `offset` (a catalogue pointer)."""
    path = Path(path)
    member = _member_at(path, offset)
    _parse(member, path, offset, raw_block=True)  # the whole block is there
    return _response(_parse(member, path, offset), path, offset)


def digest_problems(record: ArcWarcRecord) -> list[str]:
    """Recompute WARC-Block-Digest (and WARC-Payload-Digest of a response) of a raw-block record."""
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
    return digest_problems(_parse(_member_at(path, offset), path, offset, raw_block=True))


def _members(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(offset, compressed length, inflated bytes) of each gzip member; raises at the first broken one.

    One sequential pass: what one member's inflater leaves unused starts the next.
    """
    offset = 0
    with open(path, "rb") as fh:
        pending = fh.read(CHUNK)
        while pending:
            length, inflated, pending = _next_member(fh, path, offset, pending)
            yield offset, length, inflated
            offset += length


def _next_member(fh: BinaryIO, path: Path, offset: int, data: bytes) -> tuple[int, bytes, bytes]:
    """Inflate the member that `data` (then the file) starts with: (its length, inflated, bytes after it)."""
    inflater, parts, taken = zlib.decompressobj(zlib.MAX_WBITS | 16), [], 0
    while True:
        try:
            parts.append(inflater.decompress(data))
        except zlib.error as error:
            raise WarcReadError(path, offset, f"not a readable gzip member ({error})") from None
        if inflater.eof:
            unused = inflater.unused_data
            return taken + len(data) - len(unused), b"".join(parts), unused or fh.read(CHUNK)
        taken += len(data)
        data = fh.read(CHUNK)
        if not data:
            raise TornRecordError(path, offset, "gzip member cut short by end of file")


def scan_file(path: Path) -> ScanResult:
    """Walk every gzip member of a file: whole records, digest problems, a torn tail."""
    path = Path(path)
    result = ScanResult(path=path, size=path.stat().st_size)
    try:
        for offset, length, member in _members(path):
            record = _parse(member, path, offset, raw_block=True)
            result.records.append(_summary(record, offset, length))
            result.good_end = offset + length
    except WarcReadError as error:
        result.problems.append(str(error))
        result.torn = isinstance(error, TornRecordError) or _zeros_only(path, result.good_end)
    return result


def _zeros_only(path: Path, offset: int) -> bool:
    """After a power loss a file can end in NUL bytes where the last record was to go."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        return all(not chunk.strip(b"\0") for chunk in iter(lambda: fh.read(CHUNK), b""))


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


def iter_records(path: Path) -> Iterator[tuple[int, int, ArchivedResponse]]:
    """(offset, length, record) of each response and revisit record, for reindex.

    Raises WarcReadError at the first broken record, after yielding those before it.
    """
    path = Path(path)
    for offset, length, member in _members(path):
        quick = quick_capture(member)
        if quick is False:
            continue
        if quick is None:  # something unusual: warcio reads it
            record = _parse(member, path, offset)
            if record.rec_type not in CAPTURE_TYPES:
                continue
            quick = _response(record, path, offset)
        yield offset, length, quick


def quick_capture(member: bytes) -> ArchivedResponse | bool | None:
    """The response or revisit in an inflated record, read without warcio's stream machinery.

    Reindex reads every record of the archive, and warcio's line-by-line header
    parsing was most of its cost. This reads the plain case, which is every record
    this crawler writes, exactly as warcio would (tests compare the two over whole
    crawls): False for a record that is not a capture, None for anything unusual
    (continuation lines, a missing blank line, a short block), which the caller
    then hands to warcio.
    """
    end = member.find(b"\r\n\r\n")
    fields = _fields(member[:end]) if end > 0 else None
    if fields is None or not fields[0].upper().startswith("WARC/"):
        return None
    named = fields[1]
    record_type = named.get("warc-type")
    if record_type not in CAPTURE_TYPES:
        return None if record_type is None else False
    length = named.get("content-length", "")
    if not length.isdigit() or not named.get("content-type", "").startswith("application/http"):
        return None
    block = member[end + 4 : end + 4 + int(length)]
    head_end = block.find(b"\r\n\r\n")
    http = _fields(block[:head_end]) if len(block) == int(length) and head_end > 0 else None
    if http is None or not http[0].upper().startswith("HTTP/"):
        return None
    status, _, reason = http[0].partition(" ")[2].strip().partition(" ")
    if not status.isdigit():
        return None
    return ArchivedResponse(
        record_type=record_type,
        record_id=named.get("warc-record-id", ""),
        url=named.get("warc-target-uri", ""),
        warc_date=named.get("warc-date", ""),
        payload_digest=named.get("warc-payload-digest"),
        refers_to=named.get("warc-refers-to"),
        status=int(status),
        reason=reason,
        headers=http[2],
        entity=block[head_end + 4 :],
        refers_to_url=named.get("warc-refers-to-target-uri"),
        refers_to_date=named.get("warc-refers-to-date"),
    )


def _fields(head: bytes) -> tuple[str, dict[str, str], Headers] | None:
    """(first line, {lower-case name: first value}, [(name, value)]) of a header block, or None if unusual.

    A block that is not UTF-8 is left to warcio (which decodes such lines as ISO-8859-1).
    """
    try:
        lines = head.decode("utf-8").split("\r\n")
    except UnicodeDecodeError:
        return None
    named: dict[str, str] = {}
    pairs: Headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or line[:1] in (" ", "\t"):
            return None
        name, value = name.rstrip(" \t"), value.strip()
        named.setdefault(name.lower(), value)
        pairs.append((name, value))
    return lines[0].strip(), named, pairs
