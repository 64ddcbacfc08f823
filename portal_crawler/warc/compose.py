"""A WARC record's bytes, composed directly: header block, digests, and the gzip member that holds it.

Written by hand for cost, not for want of a library. warcio's RecordBuilder and
WARCWriter took 0.38 ms of the writer's 0.97 ms per response
(`python -m bench.profile_writer`, README "Performance"): header objects rebuilt and searched for every
field, the payload's SHA-1 taken twice, base32 in pure Python five times, and
every byte deflated at level 9, the bodies the server had already gzipped
included. FastWARC's writer is fast but orders the fields otherwise and leaves
the payload digest out. The bytes here are the ones warcio 1.8 writes, field for
field (tests/test_compose.py builds every record kind both ways and compares);
reading stays with warcio and FastWARC.

Compression is chosen per record (WARC 1.1 annex D: one gzip member a record):
the header block, and a payload that is not compressed already, deflate at
`LEVEL`; a payload already compressed (a Content-Encoding, or a JPEG, PNG, GIF,
WebP, font, audio or video file) is stored in deflate's stored blocks, since
deflating it again costs the CPU of a page and saves nothing. Any gzip reader
inflates the member as one stream.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import Iterable

WARC_VERSION = "WARC/1.1"
LEVEL = 6  # zlib's default: within 1 % of level 9 on pages and headers, at a fraction of its time
CRLF = b"\r\n"
END = b"\r\n\r\n"  # after every record's block
# RFC 1952: ID1 ID2, CM = deflate, no flags, MTIME 0, XFL 0, OS = Unix (what zlib writes, bar XFL)
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
GZIP_TRAILER = struct.Struct("<II")  # CRC-32 and size mod 2**32 of what the member inflates to
RAW_DEFLATE = -zlib.MAX_WBITS
COMPRESSED_MEDIA = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "font/woff", "font/woff2")
COMPRESSED_KINDS = ("video/", "audio/")


def sha1_label(*parts: bytes) -> str:
    """`sha1:` and the base32 SHA-1 over the parts, as WARC-Block-Digest and WARC-Payload-Digest give it."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


EMPTY_DIGEST = sha1_label()


def header_block(fields: Iterable[tuple[str, str]]) -> bytes:
    """The record's version line and named fields, UTF-8, ending in the blank line."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return f"{WARC_VERSION}\r\n{lines}\r\n".encode()


def http_head(first_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """Start line and headers as they crossed the wire (latin-1), ending in the blank line."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"{first_line}\r\n{lines}\r\n".encode("latin-1")


def already_compressed(headers: Iterable[tuple[str, str]]) -> bool:
    """True when the stored entity is compressed already: deflating it again would save nothing."""
    for name, value in headers:
        lower = name.lower()
        if lower == "content-encoding" and value.strip().lower() not in ("", "identity"):
            return True
        if lower == "content-type":
            media = value.split(";", 1)[0].strip().lower()
            if media in COMPRESSED_MEDIA or media.startswith(COMPRESSED_KINDS):
                return True
    return False


def gzip_member(head: bytes, payload: bytes = b"", *, store_payload: bool = False) -> bytes:
    """One gzip member of `head + payload + END`: the payload deflated with the rest, or stored."""
    if not store_payload or not payload:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return compressor.compress(head) + compressor.compress(payload) + compressor.compress(END) + compressor.flush()
    # The head deflated and flushed to a byte boundary, then the payload in stored blocks by a second
    # raw compressor: one valid deflate stream (RFC 1951), framed as gzip here because two compressors
    # cannot share zlib's own gzip wrapper.
    deflated = zlib.compressobj(LEVEL, zlib.DEFLATED, RAW_DEFLATE)
    stored = zlib.compressobj(0, zlib.DEFLATED, RAW_DEFLATE)
    crc = zlib.crc32(END, zlib.crc32(payload, zlib.crc32(head)))
    size = (len(head) + len(payload) + len(END)) & 0xFFFFFFFF
    return b"".join(
        (
            GZIP_HEADER,
            deflated.compress(head),
            deflated.flush(zlib.Z_FULL_FLUSH),
            stored.compress(payload),
            stored.compress(END),
            stored.flush(),
            GZIP_TRAILER.pack(crc, size),
        )
    )
