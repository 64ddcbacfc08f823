"""WARC captures: the writer (request/response pairs, revisits, rotation) and the reading side.

The writer sees the wire bytes: the entity is stored as the server sent it (still
compressed where Content-Encoding says so, de-chunked), and the stored headers are
made to agree with it. Header strings are the wire bytes decoded as latin-1 and are
written back as latin-1, so no byte is percent-encoded or lost on the way.
"""

from __future__ import annotations

import http
import importlib
import os
import re
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO
from importlib.metadata import version
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from portal_crawler import __version__

Headers = list[tuple[str, str]]
IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
CAPTURE_TYPES = ("response", "revisit")
BUILDER = RecordBuilder(warc_version="1.1")


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as it crossed the wire (headers as latin-1 strings)."""

    url: str
    method: str
    request_headers: Headers
    request_body: bytes
    status: int
    reason: str
    response_headers: Headers
    body: bytes
    fetched_at: datetime
    ip_address: str | None
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class PriorCapture:
    """The last capture of the same URL, as the catalogue knows it."""

    record_id: str
    url: str
    warc_date: str
    payload_digest: str


@dataclass(frozen=True)
class RecordPointer:
    """Where a capture lives: what the catalogue stores."""

    filename: str
    offset: int
    length: int
    record_id: str
    record_type: str
    payload_digest: str
    warc_date: str
    request_offset: int
    request_length: int


class WireHeaders(StatusAndHeaders):
    """Status line and headers serialised back to their wire bytes (latin-1)."""

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self.to_str(header_filter).encode("latin-1") + b"\r\n"


def warc_date(moment: datetime) -> str:
    """WARC-Date with microsecond precision, always six digits (WARC/1.1)."""
    if moment.tzinfo is None:
        raise ValueError(f"fetch time {moment} has no time zone: give an aware UTC datetime")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payload_digest(entity: bytes) -> str:
    """sha1 base32 over the stored entity, as warcio writes WARC-Payload-Digest."""
    digester = Digester("sha1")
    digester.update(entity)
    return str(digester)


def stored_headers(headers: Headers, entity_length: int) -> Headers:
    """Headers that agree with the stored entity: de-chunked, Content-Length exact.

    Content-Encoding and every repeated header are kept as received.
    """
    kept: Headers = []
    for name, value in headers:
        lower = name.lower()
        if lower == "transfer-encoding" or (lower == "content-length" and _has(kept, lower)):
            continue
        kept.append((name, str(entity_length) if lower == "content-length" else value))
    if not _has(kept, "content-length"):
        kept.append(("Content-Length", str(entity_length)))
    return kept


def _has(headers: Headers, lower_name: str) -> bool:
    return any(name.lower() == lower_name for name, _ in headers)


def request_target(url: str) -> str:
    """Path and query of a URL, as on the request line."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class WarcWriter:
    """Appends request/response (or revisit) pairs to rotating WARC/1.1 files."""

    def __init__(self, directory: Path, *, host: str, prefix: str = "MPS", max_size: int = 10**9,
                 warcinfo: dict[str, str] | None = None, clock: Callable[[], datetime] | None = None,
                 make_record_id: Callable[[], str] | None = None) -> None:
        self.directory = Path(directory)
        self.host = re.sub(r"[^A-Za-z0-9.-]", "-", host)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self._clock = clock or _utc_now
        self._make_record_id = make_record_id or new_record_id
        self._file: BinaryIO | None = None
        self._warc: WARCWriter | None = None
        self._filename: str | None = None
        self._serial = 0
        self.bytes_written = 0  # over every file of this writer, for the run's statistics
        self.filenames: list[str] = []

    @property
    def current_filename(self) -> str | None:
        return self._filename

    def write_exchange(self, exchange: Exchange, prior: PriorCapture | None = None) -> RecordPointer:
        """Write the exchange as response (or identical-payload revisit of `prior`) + request."""
        self._ensure_open()
        digest = payload_digest(exchange.body)
        headers = stored_headers(exchange.response_headers, len(exchange.body))
        if prior is not None and prior.payload_digest == digest:
            return self._write_revisit(exchange, headers, prior, IDENTICAL_PAYLOAD)
        capture_id = self._make_record_id()
        record = BUILDER.create_warc_record(
            exchange.url, "response", payload=BytesIO(exchange.body), length=len(exchange.body),
            http_headers=self._status_headers(exchange, headers),
            warc_headers_dict=self._warc_fields(exchange, "response", capture_id))
        return self._write_pair(exchange, record)

    def write_not_modified(self, exchange: Exchange, prior: PriorCapture) -> RecordPointer:
        """A 304 answer to a conditional GET: revisit (server-not-modified) of `prior`."""
        self._ensure_open()
        headers = [(k, v) for k, v in exchange.response_headers if k.lower() != "transfer-encoding"]
        return self._write_revisit(exchange, headers, prior, SERVER_NOT_MODIFIED)

    def _write_revisit(self, exchange: Exchange, headers: Headers, prior: PriorCapture,
                       profile: str) -> RecordPointer:
        fields = self._warc_fields(exchange, "revisit", self._make_record_id())
        fields["WARC-Refers-To"] = prior.record_id
        record = BUILDER.create_revisit_record(
            exchange.url, prior.payload_digest, prior.url, prior.warc_date,
            http_headers=self._status_headers(exchange, headers), warc_headers_dict=fields)
        record.rec_headers.replace_header("WARC-Profile", profile)
        return self._write_pair(exchange, record)

    def _write_pair(self, exchange: Exchange, capture: ArcWarcRecord) -> RecordPointer:
        capture_id = capture.rec_headers.get_header("WARC-Record-ID")
        request = self._request_record(exchange, capture_id)
        offset, length = self._append(capture)
        request_offset, request_length = self._append(request)
        pointer = RecordPointer(
            filename=str(self._filename), offset=offset, length=length, record_id=capture_id,
            record_type=capture.rec_type,
            payload_digest=capture.rec_headers.get_header("WARC-Payload-Digest"),
            warc_date=capture.rec_headers.get_header("WARC-Date"),
            request_offset=request_offset, request_length=request_length)
        if request_offset + request_length >= self.max_size:
            self._close_file()
        return pointer

    def _request_record(self, exchange: Exchange, concurrent_to: str) -> ArcWarcRecord:
        line = f"{exchange.method} {request_target(exchange.url)} {exchange.protocol}"
        fields = self._warc_fields(exchange, "request", self._make_record_id())
        fields["WARC-Concurrent-To"] = concurrent_to
        return BUILDER.create_warc_record(
            exchange.url, "request", payload=BytesIO(exchange.request_body),
            length=len(exchange.request_body), warc_headers_dict=fields,
            http_headers=WireHeaders(line, list(exchange.request_headers)))

    def _status_headers(self, exchange: Exchange, headers: Headers) -> WireHeaders:
        reason = exchange.reason or reason_phrase(exchange.status)
        return WireHeaders(f"{exchange.status} {reason}", headers, protocol=exchange.protocol)

    def _warc_fields(self, exchange: Exchange, record_type: str, record_id: str) -> dict[str, str]:
        fields = {"WARC-Type": record_type, "WARC-Record-ID": record_id,
                  "WARC-Date": warc_date(exchange.fetched_at)}
        if exchange.ip_address:
            fields["WARC-IP-Address"] = exchange.ip_address
        return fields

    def _append(self, record: ArcWarcRecord) -> tuple[int, int]:
        """Write one record (warcio flushes it to the OS); return its offset and length."""
        assert self._file is not None and self._warc is not None
        offset = self._file.tell()
        self._warc.write_record(record)
        length = self._file.tell() - offset
        self.bytes_written += length
        return offset, length

    def _ensure_open(self) -> None:
        """Open the next file (never an existing one), starting with its warcinfo record."""
        if self._file is not None:
            return
        opened_at = self._clock()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = opened_at.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        while True:
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}.warc.gz"
            self._serial += 1
            try:
                self._file = open(self.directory / name, "xb")
                break
            except FileExistsError:
                continue
        self._warc = WARCWriter(self._file, gzip=True, warc_version="1.1")
        self._filename = name
        self.filenames.append(name)
        self._append(self._warcinfo_record(name, opened_at))

    def _warcinfo_record(self, filename: str, opened_at: datetime) -> ArcWarcRecord:
        info = {"software": f"portal-crawler/{__version__} warcio/{version('warcio')}",
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                              "warc-format/warc-1.1/",
                "hostname": self.host, **self.warcinfo}
        block = "".join(f"{k}: {v}\r\n" for k, v in info.items() if v).encode("utf-8")
        fields = {"WARC-Type": "warcinfo", "WARC-Record-ID": self._make_record_id(),
                  "WARC-Filename": filename,
                  "WARC-Date": warc_date(opened_at)}
        return BUILDER.create_warc_record(
            "", "warcinfo", payload=BytesIO(block), length=len(block), warc_headers_dict=fields,
            warc_content_type="application/warc-fields")

    def sync(self) -> None:
        """Flush and fsync the open file: called before the catalogue commits."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def _close_file(self) -> None:
        self.sync()
        if self._file is not None:
            self._file.close()
        self._file, self._warc, self._filename = None, None, None

    def close(self) -> None:
        self._close_file()

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reason_phrase(status: int) -> str:
    """The standard reason phrase for a status, or "Unknown"."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# -- reading side: verify, show, reindex ------------------------------------------------

CHUNK = 1 << 16


class WarcReadError(Exception):
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
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def decoded_body(self) -> bytes:
        """The entity with its Content-Encoding (gzip, deflate, chained) undone."""
        return decode_entity(self.entity, self.header("Content-Encoding"))


def decode_entity(entity: bytes, content_encoding: str | None) -> bytes:
    """Undo a Content-Encoding (gzip, deflate, br, zstd, chained); raises ValueError when corrupt."""
    body = entity
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    for coding in reversed([c for c in codings if c and c != "identity"]):
        body = _decode(body, coding)
    return body


_WBITS = {"gzip": (zlib.MAX_WBITS | 32,), "x-gzip": (zlib.MAX_WBITS | 32,),
          "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS)}  # deflate: zlib-wrapped, or raw
# Scrapy advertises br and zstd when these are installed, so the archive may hold them.
_OPTIONAL_CODECS = {"br": ("brotli", "brotlicffi"), "zstd": ("compression.zstd", "backports.zstd")}


def _decode(body: bytes, coding: str) -> bytes:
    """Undo one content coding; ValueError when it is unknown or the data is broken."""
    if coding in _OPTIONAL_CODECS:
        return _decode_optional(body, coding)
    if coding not in _WBITS:
        raise ValueError(f"unsupported Content-Encoding {coding!r}")
    for wbits in _WBITS[coding]:
        try:
            return zlib.decompress(body, wbits)
        except zlib.error as error:
            problem = error
    raise ValueError(f"cannot undo Content-Encoding {coding}: {problem}")


def _decode_optional(body: bytes, coding: str) -> bytes:
    for name in _OPTIONAL_CODECS[coding]:
        try:
            codec = importlib.import_module(name)
        except ImportError:
            continue
        try:
            return codec.decompress(body)
        except Exception as error:  # brotli.error, ZstdError: no common base class
            raise ValueError(f"cannot undo Content-Encoding {coding}: {error}") from None
    raise ValueError(f"Content-Encoding {coding} needs one of {_OPTIONAL_CODECS[coding]} installed")


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
    return bytes(raw[:len(raw) - len(inflater.unused_data)]), b"".join(inflated)


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
        record_type=record.rec_type, record_id=fields.get_header("WARC-Record-ID"),
        url=fields.get_header("WARC-Target-URI"), warc_date=fields.get_header("WARC-Date"),
        payload_digest=fields.get_header("WARC-Payload-Digest"),
        refers_to=fields.get_header("WARC-Refers-To"), status=int(status), reason=reason,
        headers=list(http_headers.headers), entity=record.block,
        refers_to_url=fields.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=fields.get_header("WARC-Refers-To-Date"))


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
        offset=offset, length=length, record_type=record.rec_type,
        record_id=fields.get_header("WARC-Record-ID"), url=fields.get_header("WARC-Target-URI"),
        warc_date=fields.get_header("WARC-Date"),
        payload_digest=fields.get_header("WARC-Payload-Digest"),
        digest_problems=tuple(digest_problems(record)))


def iter_records(path: Path) -> Iterator[tuple[int, int, ArchivedResponse]]:
    """(offset, length, record) of each response and revisit record, for reindex.

    Raises WarcReadError at the first broken record, after yielding those before it.
    """
    path = Path(path)
    for offset, length, member in _members(path):
        if not _is_capture(member):
            continue
        record = _parse(member, path, offset)
        if record.rec_type in CAPTURE_TYPES:
            yield offset, length, _response(record, path, offset)


_TYPE_FIELD = re.compile(rb"\r\nWARC-Type:[ \t]*([A-Za-z]+)", re.IGNORECASE)


def _is_capture(member: bytes) -> bool:
    """A cheap look at the WARC-Type field, so request and warcinfo records are not parsed."""
    head = member[:member.find(b"\r\n\r\n") + 2 if b"\r\n\r\n" in member[:8192] else 8192]
    match = _TYPE_FIELD.search(head)
    return match is None or match.group(1).decode().lower() in CAPTURE_TYPES
