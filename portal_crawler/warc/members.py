"""A .warc.gz file one gzip member (one record) at a time: where each starts, how long it is, where damage is.

Written on zlib by hand because the careful readers need what neither warcio
nor FastWARC gives: the exact offset and compressed length of each member, a
member cut short by the end of the file told apart from a corrupt one, and,
after damage, the next member that inflates to a WARC record (both libraries
stop at the first broken member). Records are written one gzip member each
(WARC 1.1, annex D), so a member is a record.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from portal_crawler.warc.archived import TornRecordError, WarcReadError

CHUNK = 1 << 16
GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1 ID2 and CM=deflate: how every member starts


def read_member(fh: BinaryIO, path: Path, offset: int) -> tuple[bytes, bytes] | None:
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


def member_at(path: Path, offset: int) -> bytes:
    """The inflated record at `offset` (a catalogue pointer)."""
    try:
        with open(path, "rb") as fh:
            member = read_member(fh, path, offset)
    except OSError as error:
        raise WarcReadError(path, offset, error.strerror or str(error)) from None
    if member is None:
        raise WarcReadError(path, offset, "offset is at or past the end of the file")
    return member[1]


def iter_members(path: Path, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """(offset, compressed length, inflated bytes) of each member from `start`; raises at the first broken one.

    One sequential pass: what one member's inflater leaves unused starts the next.
    """
    offset = start
    with open(path, "rb") as fh:
        fh.seek(start)
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


def zeros_only(path: Path, offset: int) -> bool:
    """After a power loss a file can end in NUL bytes where the last record was to go."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        return all(not chunk.strip(b"\0") for chunk in iter(lambda: fh.read(CHUNK), b""))


def next_record_start(path: Path, after: int) -> int | None:
    """The offset of the first whole member after `after` that inflates to a WARC record, or None.

    How reading goes on past damage: candidates are the places the gzip magic
    bytes occur; one that does not inflate, or is not a WARC record, is passed by.
    """
    with open(path, "rb") as fh:
        for candidate in _magic_offsets(fh, after + 1):
            try:
                member = read_member(fh, path, candidate)
            except WarcReadError:
                continue
            if member is not None and member[1].startswith(b"WARC/"):
                return candidate
    return None


def _magic_offsets(fh: BinaryIO, start: int) -> Iterator[int]:
    """Every offset from `start` on where GZIP_MAGIC occurs (the caller may move the file position)."""
    position, carry = start, b""
    while True:
        fh.seek(position)
        chunk = fh.read(CHUNK)
        if not chunk:
            return
        data, base = carry + chunk, position - len(carry)
        found = data.find(GZIP_MAGIC)
        while found >= 0:
            yield base + found
            found = data.find(GZIP_MAGIC, found + 1)
        position += len(chunk)
        carry = data[-(len(GZIP_MAGIC) - 1) :]
