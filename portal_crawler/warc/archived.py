"""A capture as read back from a WARC file, and the errors that say where reading failed.

Every reader of the project (`read_record`, the scan, reindex's record
iterator) hands out `ArchivedResponse` and raises `WarcReadError`, so callers
never see which WARC library did the parsing. warcio's side of it (one record
in an inflated gzip member) is here too, for the careful readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from portal_crawler.core.errors import Failure
from portal_crawler.warc.codings import DECODE_LIMIT, decode_entity
from portal_crawler.warc.records import CAPTURE_TYPES, Headers, header, payload_digest


class WarcReadError(Failure):
    """A record that cannot be read back; the message names the file and offset."""

    def __init__(self, path: Path, offset: int, reason: str) -> None:
        super().__init__(f"{path}: offset {offset}: {reason}")
        self.path, self.offset, self.reason = Path(path), offset, reason


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
    digest_checked: bool | None = field(default=None, compare=False, repr=False)  # by a reader that checked it

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    def decoded_body(self, limit: int = DECODE_LIMIT) -> bytes:
        """The entity with its Content-Encoding (gzip, deflate, chained) undone, at most `limit` bytes.

        Raises ValueError when the coding is broken or unknown, EntityTooLarge past `limit`.
        """
        return decode_entity(self.entity, self.header("Content-Encoding"), limit)

    def payload_intact(self) -> bool:
        """Whether a response's entity still has the WARC-Payload-Digest it was written with.

        A revisit carries its original's digest, not its own payload: always True.
        """
        if self.record_type != "response" or not self.payload_digest:
            return True
        if self.digest_checked is not None:
            return self.digest_checked
        return self.payload_digest.lower() == payload_digest(self.entity).lower()


def parse_member(member: bytes, path: Path, offset: int, *, raw_block: bool = False) -> ArcWarcRecord:
    """The one WARC record in an inflated gzip member, its stream read to the end into `record.block`."""
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


def archived_response(record: ArcWarcRecord, path: Path, offset: int) -> ArchivedResponse:
    """A warcio response or revisit record (HTTP headers parsed) as the project's type."""
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
