"""What a WARC capture is, as both the writer and the readers see it: exchanges, pointers, digests, headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal_crawler.warc.compose import sha1_label

Headers = list[tuple[str, str]]
IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
CAPTURE_TYPES = ("response", "revisit")


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


def payload_digest(entity: bytes) -> str:
    """sha1 base32 over the stored entity, as warcio writes WARC-Payload-Digest."""
    return sha1_label(entity)


def header(headers: Headers, name: str) -> str | None:
    """The first value of a header, by case-insensitive name (the one header lookup)."""
    lower = name.lower()
    return next((value for key, value in headers if key.lower() == lower), None)


def has_header(headers: Headers, name: str) -> bool:
    lower = name.lower()
    return any(key.lower() == lower for key, _ in headers)
