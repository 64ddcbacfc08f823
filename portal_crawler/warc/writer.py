"""WARC captures: the writer (request/response pairs, revisits, rotation); reading is in `reader.py`.

The writer sees the wire bytes: the entity is stored as the server sent it (still
compressed where Content-Encoding says so, de-chunked), and the stored headers are
made to agree with it. Header strings are the wire bytes decoded as latin-1 and are
written back as latin-1, so no byte is percent-encoded or lost on the way.
"""

from __future__ import annotations

import http
import os
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portal_crawler import __version__
from portal_crawler.core.times import warc_date, warc_file_stamp
from portal_crawler.warc.records import (
    IDENTICAL_PAYLOAD,
    SERVER_NOT_MODIFIED,
    Exchange,
    Headers,
    PriorCapture,
    RecordPointer,
    has_header,
    payload_digest,
)

BUILDER = RecordBuilder(warc_version="1.1")


class WireHeaders(StatusAndHeaders):
    """Status line and headers serialised back to their wire bytes (latin-1)."""

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self.to_str(header_filter).encode("latin-1") + b"\r\n"


def stored_headers(headers: Headers, entity_length: int) -> Headers:
    """Headers that agree with the stored entity: de-chunked, Content-Length exact.

    Content-Encoding and every repeated header are kept as received.
    """
    kept: Headers = []
    for name, value in headers:
        lower = name.lower()
        if lower == "transfer-encoding" or (lower == "content-length" and has_header(kept, lower)):
            continue
        kept.append((name, str(entity_length) if lower == "content-length" else value))
    if not has_header(kept, "content-length"):
        kept.append(("Content-Length", str(entity_length)))
    return kept


def request_target(url: str) -> str:
    """Path and query of a URL, as on the request line."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WarcWriter:
    """Appends request/response (or revisit) pairs to rotating WARC/1.1 files."""

    def __init__(
        self,
        directory: Path,
        *,
        host: str,
        prefix: str = "MPS",
        max_size: int = 10**9,
        warcinfo: dict[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        make_record_id: Callable[[], str] | None = None,
    ) -> None:
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
            exchange.url,
            "response",
            payload=BytesIO(exchange.body),
            length=len(exchange.body),
            http_headers=self._status_headers(exchange, headers),
            warc_headers_dict=self._warc_fields(exchange, "response", capture_id),
        )
        return self._write_pair(exchange, record)

    def write_not_modified(self, exchange: Exchange, prior: PriorCapture) -> RecordPointer:
        """A 304 answer to a conditional GET: revisit (server-not-modified) of `prior`."""
        self._ensure_open()
        headers = [(k, v) for k, v in exchange.response_headers if k.lower() != "transfer-encoding"]
        return self._write_revisit(exchange, headers, prior, SERVER_NOT_MODIFIED)

    def _write_revisit(self, exchange: Exchange, headers: Headers, prior: PriorCapture, profile: str) -> RecordPointer:
        fields = self._warc_fields(exchange, "revisit", self._make_record_id())
        fields["WARC-Refers-To"] = prior.record_id
        record = BUILDER.create_revisit_record(
            exchange.url,
            prior.payload_digest,
            prior.url,
            prior.warc_date,
            http_headers=self._status_headers(exchange, headers),
            warc_headers_dict=fields,
        )
        record.rec_headers.replace_header("WARC-Profile", profile)
        return self._write_pair(exchange, record)

    def _write_pair(self, exchange: Exchange, capture: ArcWarcRecord) -> RecordPointer:
        capture_id = capture.rec_headers.get_header("WARC-Record-ID")
        request = self._request_record(exchange, capture_id)
        offset, length = self._append(capture)
        request_offset, request_length = self._append(request)
        pointer = RecordPointer(
            filename=str(self._filename),
            offset=offset,
            length=length,
            record_id=capture_id,
            record_type=capture.rec_type,
            payload_digest=capture.rec_headers.get_header("WARC-Payload-Digest"),
            warc_date=capture.rec_headers.get_header("WARC-Date"),
            request_offset=request_offset,
            request_length=request_length,
        )
        if request_offset + request_length >= self.max_size:
            self._close_file()
        return pointer

    def _request_record(self, exchange: Exchange, concurrent_to: str) -> ArcWarcRecord:
        line = f"{exchange.method} {request_target(exchange.url)} {exchange.protocol}"
        fields = self._warc_fields(exchange, "request", self._make_record_id())
        fields["WARC-Concurrent-To"] = concurrent_to
        return BUILDER.create_warc_record(
            exchange.url,
            "request",
            payload=BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            warc_headers_dict=fields,
            http_headers=WireHeaders(line, list(exchange.request_headers)),
        )

    def _status_headers(self, exchange: Exchange, headers: Headers) -> WireHeaders:
        reason = exchange.reason or reason_phrase(exchange.status)
        return WireHeaders(f"{exchange.status} {reason}", headers, protocol=exchange.protocol)

    def _warc_fields(self, exchange: Exchange, record_type: str, record_id: str) -> dict[str, str]:
        fields = {"WARC-Type": record_type, "WARC-Record-ID": record_id, "WARC-Date": warc_date(exchange.fetched_at)}
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
        stamp = warc_file_stamp(opened_at)
        while True:
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}.warc.gz"
            self._serial += 1
            try:
                self._file = open(self.directory / name, "xb")  # noqa: SIM115 (open across many records)
                break
            except FileExistsError:
                continue
        self._warc = WARCWriter(self._file, gzip=True, warc_version="1.1")
        self._filename = name
        self.filenames.append(name)
        self._append(self._warcinfo_record(name, opened_at))

    def _warcinfo_record(self, filename: str, opened_at: datetime) -> ArcWarcRecord:
        info = {
            "software": f"portal-crawler/{__version__} warcio/{version('warcio')}",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": self.host,
            **self.warcinfo,
        }
        block = "".join(f"{k}: {v}\r\n" for k, v in info.items() if v).encode("utf-8")
        fields = {
            "WARC-Type": "warcinfo",
            "WARC-Record-ID": self._make_record_id(),
            "WARC-Filename": filename,
            "WARC-Date": warc_date(opened_at),
        }
        return BUILDER.create_warc_record(
            "",
            "warcinfo",
            payload=BytesIO(block),
            length=len(block),
            warc_headers_dict=fields,
            warc_content_type="application/warc-fields",
        )

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
