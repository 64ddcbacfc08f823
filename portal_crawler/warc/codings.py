"""Undoing a stored entity's Content-Encoding, never past a size limit.

The archive keeps entities as the server sent them (gzip, deflate, br, zstd,
chained); every reader that needs the page itself (show, reindex, the writer's
extraction, WACZ text) decodes here, so a gzip bomb archived as a 200 KB record
can never inflate to gigabytes in a reader: past `limit` bytes it is refused.
"""

from __future__ import annotations

import importlib
import zlib

DECODE_LIMIT = 8 * 1024 * 1024  # the crawl's DOWNLOAD_MAXSIZE: a larger page was never a page to the crawler

_WBITS = {
    "gzip": (zlib.MAX_WBITS | 32,),
    "x-gzip": (zlib.MAX_WBITS | 32,),
    "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS),
}  # deflate: zlib-wrapped, or raw
# Scrapy advertises br and zstd when these are installed, so the archive may hold them.
_OPTIONAL_CODECS = {"br": ("brotli", "brotlicffi"), "zstd": ("compression.zstd", "backports.zstd")}


class EntityTooLarge(ValueError):
    """The decoded entity would be larger than the limit (a decompression bomb, or a page no crawl would keep)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"decoded entity larger than {limit} bytes: refused")
        self.limit = limit


def decode_entity(entity: bytes, content_encoding: str | None, limit: int = DECODE_LIMIT) -> bytes:
    """Undo a Content-Encoding (gzip, deflate, br, zstd, chained).

    Raises ValueError when corrupt or unknown, EntityTooLarge past `limit` bytes.
    """
    body = entity
    for coding in reversed(_codings(content_encoding)):
        body = _decode(body, coding, limit)
    if len(body) > limit:
        raise EntityTooLarge(limit)
    return body


def decode_head(entity: bytes, content_encoding: str | None, size: int) -> bytes:
    """The first `size` bytes of the decoded entity (all of it when shorter); b"" when it cannot be decoded.

    One gzip or deflate coding is inflated only that far (zlib's max_length);
    another (br, zstd, chained) is decoded whole, within DECODE_LIMIT, and cut.
    """
    codings = _codings(content_encoding)
    if not codings:
        return entity[:size]
    if len(codings) == 1 and codings[0] in _WBITS:
        for wbits in _WBITS[codings[0]]:
            try:
                return zlib.decompressobj(wbits).decompress(entity, size)
            except zlib.error:
                continue
        return b""
    try:
        return decode_entity(entity, content_encoding)[:size]
    except ValueError:
        return b""


def _codings(content_encoding: str | None) -> list[str]:
    """The codings a Content-Encoding lists, in the order applied, identity left out."""
    codings = (c.strip().lower() for c in (content_encoding or "").split(","))
    return [c for c in codings if c and c != "identity"]


def _decode(body: bytes, coding: str, limit: int) -> bytes:
    """Undo one content coding; ValueError when it is unknown or the data is broken."""
    if coding in _OPTIONAL_CODECS:
        return _decode_optional(body, coding, limit)
    if coding not in _WBITS:
        raise ValueError(f"unsupported Content-Encoding {coding!r}")
    problem = "no data"
    for wbits in _WBITS[coding]:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)  # max_length: never inflates past the limit
        except zlib.error as error:
            problem = str(error)
            continue
        if len(out) > limit:
            raise EntityTooLarge(limit)
        if inflater.eof:
            return out
        problem = "incomplete or truncated stream"
    raise ValueError(f"cannot undo Content-Encoding {coding}: {problem}")


def _decode_optional(body: bytes, coding: str, limit: int) -> bytes:
    for name in _OPTIONAL_CODECS[coding]:
        try:
            codec = importlib.import_module(name)
        except ImportError:
            continue
        try:
            out: bytes = codec.decompress(body)  # these codecs have no output bound in one call: checked after
        except Exception as error:  # brotli.error, ZstdError: no common base class
            raise ValueError(f"cannot undo Content-Encoding {coding}: {error}") from None
        if len(out) > limit:
            raise EntityTooLarge(limit)
        return out
    raise ValueError(f"Content-Encoding {coding} needs one of {_OPTIONAL_CODECS[coding]} installed")
