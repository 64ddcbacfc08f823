"""Every response and revisit record of a file, in order, for reindex: read by FastWARC, checked by hand.

FastWARC (a maintained WARC reader in C++ and Cython) reads the plain records, which is
every record this crawler writes, about four times faster than warcio. It does
not say where a record ends, and it takes some damage quietly (a member cut
short by the end of the file comes back as a short record), so whatever it
cannot be trusted with goes to the careful reader (`members` + warcio), which
knows each member's exact length and names a damaged one by offset:

- the last record FastWARC saw (its length is only known once the next one
  starts) and anything after it: the end of the file, a torn tail, garbage;
- a record whose payload is shorter than its headers say, or whose HTTP head
  is not plain, or a stream FastWARC refuses.

The careful reader reads two members, then FastWARC takes over again.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path

from fastwarc.stream_io import GzipReader
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from portal_crawler.warc.archived import (
    ArchivedResponse,
    TornRecordError,
    WarcReadError,
    archived_response,
    parse_member,
)
from portal_crawler.warc.members import iter_members, next_record_start, zeros_only
from portal_crawler.warc.records import CAPTURE_TYPES

Found = tuple[int, int, ArchivedResponse]  # (offset, compressed length, record)
CAPTURES = WarcRecordType.response | WarcRecordType.revisit
CAREFUL_MEMBERS = 2  # the record FastWARC left, and the one it stopped at


def iter_records(path: Path, start: int = 0) -> Iterator[Found]:
    """(offset, length, record) of each response and revisit record from `start` on.

    Raises WarcReadError (TornRecordError for a torn tail) at the first damaged
    record, after yielding every record before it.
    """
    path = Path(path)
    offset: int | None = start
    while offset is not None:
        offset = yield from _fast(path, offset)
        offset = yield from _careful(path, offset, CAREFUL_MEMBERS)


def records_past_damage(path: Path, on_damage: Callable[[WarcReadError, int | None], None]) -> Iterator[Found]:
    """Like `iter_records`, but reading on past damage: `on_damage(error, offset read on from, or None)` for each."""
    start: int | None = 0
    while start is not None:
        try:
            yield from iter_records(path, start)
            return
        except WarcReadError as error:
            start = None if isinstance(error, TornRecordError) else _resume_after(path, error.offset)
            on_damage(error, start)


def _resume_after(path: Path, offset: int) -> int | None:
    try:
        return next_record_start(path, offset)
    except OSError:
        return None


def _fast(path: Path, start: int) -> Generator[Found, None, int]:
    """Yield what FastWARC reads plainly from `start`; return where the careful reader takes over."""
    pending: tuple[int, ArchivedResponse | None] | None = None
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            for record in ArchiveIterator(GzipReader(fh), stream_detect=False, parse_http=False):
                offset = record.stream_pos
                if pending is not None and pending[1] is not None:
                    yield pending[0], offset - pending[0], pending[1]
                pending = (offset, None)
                if record.record_type & CAPTURES:
                    capture = _capture(record)
                    if capture is None:
                        return offset
                    pending = (offset, capture)
    except OSError:  # FastWARC's word for a broken gzip stream or WARC head: the careful reader says where
        pass
    return start if pending is None else pending[0]


def _capture(record: WarcRecord) -> ArchivedResponse | None:
    """The record as warcio would read it, or None when it is not plain (the careful reader decides)."""
    if not record.is_http:
        return None
    record.parse_http()
    protocol, _, rest = _text(record.http_headers.status_line_bytes or b"").rstrip().partition(" ")
    status, _, reason = rest.strip().partition(" ")
    response = record.record_type == WarcRecordType.response
    intact = record.verify_payload_digest() if response else None  # in C++; the payload stays readable
    entity = record.reader.read()
    if not protocol.upper().startswith("HTTP/") or not status.isdigit() or len(entity) != record.content_length:
        return None
    fields = {name.lower(): value for name, value in reversed(record.headers.items_bytes())}  # the first wins
    return ArchivedResponse(
        record_type="response" if response else "revisit",
        record_id=_text(fields.get(b"warc-record-id")),
        url=_text(fields.get(b"warc-target-uri")),
        warc_date=_text(fields.get(b"warc-date")),
        payload_digest=_optional(fields.get(b"warc-payload-digest")),
        refers_to=_optional(fields.get(b"warc-refers-to")),
        status=int(status),
        reason=reason,
        headers=_headers(record.http_headers.items_bytes()),
        entity=entity,
        refers_to_url=_optional(fields.get(b"warc-refers-to-target-uri")),
        refers_to_date=_optional(fields.get(b"warc-refers-to-date")),
        digest_checked=intact if fields.get(b"warc-payload-digest") else None,
    )


def _text(value: bytes | None) -> str:
    """Header bytes as warcio decodes them: UTF-8, or ISO-8859-1 when they are not UTF-8."""
    if value is None:
        return ""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("iso-8859-1")


def _headers(items: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The HTTP headers decoded as `_text` decodes each: one pass when all are UTF-8, as nearly all are."""
    try:
        return [(name.decode("utf-8"), value.decode("utf-8").strip()) for name, value in items]
    except UnicodeDecodeError:
        return [(_text(name), _text(value).strip()) for name, value in items]


def _optional(value: bytes | None) -> str | None:
    return None if value is None else _text(value)


def _careful(path: Path, start: int, members: int) -> Generator[Found, None, int | None]:
    """Read up to `members` members from `start` with zlib and warcio; return the next offset, None at the end."""
    offset = start
    try:
        for offset, length, member in iter_members(path, start):
            if members == 0:
                return offset
            members -= 1
            record = parse_member(member, path, offset, raw_block=True)  # the whole block is there
            if record.rec_type in CAPTURE_TYPES:
                yield offset, length, archived_response(parse_member(member, path, offset), path, offset)
    except WarcReadError as error:
        if not isinstance(error, TornRecordError) and zeros_only(path, error.offset):
            raise TornRecordError(path, error.offset, "NUL bytes after the last whole record (a torn tail)") from None
        raise
    except OSError as error:
        raise WarcReadError(path, offset, error.strerror or str(error)) from None
    return None
