"""A package's WARC bytes: a whole archive file, or a slice's records copied byte for byte from one.

A slice file keeps the name of the file its records come from and holds, in
that file's order: its warcinfo record (the run that wrote them), then each
record of the slice with the request record written right after it (the same
exchange, `WARC-Concurrent-To`). Every record is a gzip member copied as it
is (nothing is inflated and compressed again), read by the catalogue's offset
and length; adjacent records are copied as one range.

The bytes are produced once, in chunks: each chunk goes into the package's
entry (and its hash) and on to cdxj-indexer, which reads them through
`ChunkReader`, so a slice is read from the archive once and never held whole.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from portal_crawler.wacz.package import Sink
from portal_crawler.wacz.selection import Pointer

CHUNK = 1 << 20
PROBE = 4096  # a request record is a few hundred bytes: one small read finds where its member ends
Range = tuple[int, int]  # [start, end) in the source file


def whole_file(source: Path, sink: Sink) -> Iterator[bytes]:
    """Every byte of an archive file, in chunks, each also written to `sink`."""
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sink.write(chunk)
            yield chunk


def slice_bytes(source: Path, pointers: Iterator[Pointer], sink: Sink) -> Iterator[bytes]:
    """The slice file's bytes, in chunks, each also written to `sink`."""
    with open(source, "rb") as fh:
        for start, end in coalesce(slice_ranges(fh, pointers)):
            fh.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    raise ValueError(f"the file ends at offset {end - remaining}, inside a catalogued record")
                remaining -= len(chunk)
                sink.write(chunk)
                yield chunk


def slice_ranges(fh: BinaryIO, pointers: Iterator[Pointer]) -> Iterator[Range]:
    """The file's warcinfo record, then each record of the slice and the request record that follows it."""
    head = _member(fh, 0)
    if head is not None and _record_type(head[1]) == b"warcinfo":
        yield 0, head[0]
    for pointer in pointers:
        end = pointer.offset + pointer.length
        yield pointer.offset, end
        request = _member(fh, end)
        if request is not None and _is_request_of(request[1], pointer.record_id):
            yield end, end + request[0]


def coalesce(ranges: Iterator[Range]) -> Iterator[Range]:
    """Adjacent ranges as one; a range that overlaps the one before (a pointer into another record) is refused."""
    current: Range | None = None
    for start, end in ranges:
        if current is not None and start < current[1]:
            raise ValueError(f"catalogued records overlap at offset {start}: a pointer does not start a record")
        if current is not None and start == current[1]:
            current = (current[0], end)
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current


def source_offset(source: Path, pointers: Iterator[Pointer] | None, offset: int) -> int:
    """Where the byte at `offset` of a package WARC file came from in `source` (for naming a damaged record).

    The slice's ranges are walked again (only when something failed), so none is kept meanwhile.
    """
    if pointers is None:
        return offset
    position = 0
    with open(source, "rb") as fh:
        for start, end in coalesce(slice_ranges(fh, pointers)):
            if offset < position + end - start:
                return start + offset - position
            position += end - start
    return offset


def _member(fh: BinaryIO, offset: int) -> tuple[int, bytes] | None:
    """(compressed length, first inflated bytes) of the gzip member at `offset`; None if there is no whole one.

    Written on zlib because what is wanted is a member's length from a small
    read (members.read_member reads 64 KB a call, once per record here).
    """
    fh.seek(offset)
    inflater, taken, head = zlib.decompressobj(zlib.MAX_WBITS | 16), 0, b""
    while not inflater.eof:
        data = fh.read(PROBE if not taken else CHUNK)
        if not data:
            return None
        taken += len(data)
        try:
            head += inflater.decompress(data)[: max(0, PROBE - len(head))]
        except zlib.error:
            return None
    return taken - len(inflater.unused_data), head


def warc_fields(head: bytes) -> dict[bytes, bytes]:
    """A record's WARC header fields (names lowercased) from its first inflated bytes."""
    block = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(b":") for line in block)}


def _record_type(head: bytes) -> bytes | None:
    return warc_fields(head).get(b"warc-type") if head.startswith(b"WARC/") else None


def _is_request_of(head: bytes, record_id: str) -> bool:
    fields = warc_fields(head) if head.startswith(b"WARC/") else {}
    return fields.get(b"warc-type") == b"request" and fields.get(b"warc-concurrent-to") == record_id.encode()


class ChunkReader:
    """A read-only stream over chunks (what cdxj-indexer reads a package's WARC file through)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buffer, self.position = chunks, b"", 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        taken = self.buffer if size < 0 else self.buffer[:size]
        self.buffer = self.buffer[len(taken) :]
        self.position += len(taken)
        return taken

    def tell(self) -> int:
        return self.position

    def drain(self, on_chunk: Callable[[bytes], None] | None = None) -> None:
        """Produce what the reader did not ask for (bytes after the last record still go into the entry)."""
        for chunk in self.chunks:
            if on_chunk:
                on_chunk(chunk)
