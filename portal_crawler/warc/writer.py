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
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from portal_crawler import __version__
from portal_crawler.core.times import warc_date, warc_file_stamp
from portal_crawler.warc.compose import (
    EMPTY_DIGEST,
    already_compressed,
    gzip_member,
    header_block,
    http_head,
    sha1_label,
)
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

Fields = list[tuple[str, str]]
RESPONSE_TYPE = "application/http; msgtype=response"
REQUEST_TYPE = "application/http; msgtype=request"
SOFTWARE = f"portal-crawler/{__version__}"  # the records are composed here (warc/compose.py), not by warcio


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
        self._position = 0  # where the next member starts in the open file
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
        body = exchange.body
        digest = payload_digest(body)
        headers = stored_headers(exchange.response_headers, len(body))
        if prior is not None and prior.payload_digest == digest:
            return self._write_revisit(exchange, headers, prior, IDENTICAL_PAYLOAD)
        capture_id, date = self._make_record_id(), warc_date(exchange.fetched_at)
        head = http_head(self._status_line(exchange), headers)
        fields = [
            *self._fields(exchange, "response", capture_id, date),
            ("WARC-Target-URI", exchange.url),
            ("WARC-Payload-Digest", digest),
            ("WARC-Block-Digest", sha1_label(head, body)),
            ("Content-Type", RESPONSE_TYPE),
            ("Content-Length", str(len(head) + len(body))),
        ]
        member = gzip_member(header_block(fields) + head, body, store_payload=already_compressed(headers))
        return self._write_pair(exchange, member, "response", capture_id, digest, date)

    def write_not_modified(self, exchange: Exchange, prior: PriorCapture) -> RecordPointer:
        """A 304 answer to a conditional GET: revisit (server-not-modified) of `prior`."""
        self._ensure_open()
        headers = [(k, v) for k, v in exchange.response_headers if k.lower() != "transfer-encoding"]
        return self._write_revisit(exchange, headers, prior, SERVER_NOT_MODIFIED)

    def _write_revisit(self, exchange: Exchange, headers: Headers, prior: PriorCapture, profile: str) -> RecordPointer:
        capture_id, date = self._make_record_id(), warc_date(exchange.fetched_at)
        head = http_head(self._status_line(exchange), headers)
        fields = [
            *self._fields(exchange, "revisit", capture_id, date),
            ("WARC-Refers-To", prior.record_id),
            ("WARC-Target-URI", exchange.url),
            ("WARC-Profile", profile),
            ("WARC-Refers-To-Target-URI", prior.url),
            ("WARC-Refers-To-Date", prior.warc_date),
            ("WARC-Payload-Digest", prior.payload_digest),
            ("WARC-Block-Digest", sha1_label(head)),
            ("Content-Type", RESPONSE_TYPE),
            ("Content-Length", str(len(head))),
        ]
        member = gzip_member(header_block(fields) + head)
        return self._write_pair(exchange, member, "revisit", capture_id, prior.payload_digest, date)

    def _write_pair(
        self, exchange: Exchange, member: bytes, record_type: str, capture_id: str, digest: str, date: str
    ) -> RecordPointer:
        """The capture's member, then its request's, in one flush to the OS."""
        request = self._request_member(exchange, capture_id, date)
        offset, length = self._append(member, flush=False)
        request_offset, request_length = self._append(request)
        pointer = RecordPointer(
            filename=str(self._filename),
            offset=offset,
            length=length,
            record_id=capture_id,
            record_type=record_type,
            payload_digest=digest,
            warc_date=date,
            request_offset=request_offset,
            request_length=request_length,
        )
        if request_offset + request_length >= self.max_size:
            self._close_file()
        return pointer

    def _request_member(self, exchange: Exchange, concurrent_to: str, date: str) -> bytes:
        head = http_head(
            f"{exchange.method} {request_target(exchange.url)} {exchange.protocol}", exchange.request_headers
        )
        body = exchange.request_body
        fields = [
            *self._fields(exchange, "request", self._make_record_id(), date),
            ("WARC-Concurrent-To", concurrent_to),
            ("WARC-Target-URI", exchange.url),
            ("WARC-Payload-Digest", sha1_label(body) if body else EMPTY_DIGEST),
            ("WARC-Block-Digest", sha1_label(head, body)),
            ("Content-Type", REQUEST_TYPE),
            ("Content-Length", str(len(head) + len(body))),
        ]
        return gzip_member(header_block(fields) + head, body)

    @staticmethod
    def _status_line(exchange: Exchange) -> str:
        return f"{exchange.protocol} {exchange.status} {exchange.reason or reason_phrase(exchange.status)}"

    @staticmethod
    def _fields(exchange: Exchange, record_type: str, record_id: str, date: str) -> Fields:
        fields = [("WARC-Type", record_type), ("WARC-Record-ID", record_id), ("WARC-Date", date)]
        if exchange.ip_address:
            fields.append(("WARC-IP-Address", exchange.ip_address))
        return fields

    def _append(self, member: bytes, *, flush: bool = True) -> tuple[int, int]:
        """Write one record's gzip member (to the OS when `flush`); return its offset and length."""
        assert self._file is not None
        offset = self._position
        self._file.write(member)
        if flush:
            self._file.flush()
        self._position += len(member)
        self.bytes_written += len(member)
        return offset, len(member)

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
        self._position = 0
        self._filename = name
        self.filenames.append(name)
        self._append(self._warcinfo_record(name, opened_at))

    def _warcinfo_record(self, filename: str, opened_at: datetime) -> bytes:
        info = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": self.host,
            **self.warcinfo,
        }
        block = "".join(f"{k}: {v}\r\n" for k, v in info.items() if v).encode("utf-8")
        fields = [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", self._make_record_id()),
            ("WARC-Filename", filename),
            ("WARC-Date", warc_date(opened_at)),
            ("WARC-Block-Digest", sha1_label(block)),
            ("Content-Type", "application/warc-fields"),
            ("Content-Length", str(len(block))),
        ]
        return gzip_member(header_block(fields), block)

    def sync(self) -> None:
        """Flush and fsync the open file: called before the catalogue commits."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def _close_file(self) -> None:
        self.sync()
        if self._file is not None:
            self._file.close()
        self._file, self._filename = None, None

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
