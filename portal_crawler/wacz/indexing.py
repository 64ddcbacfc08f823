"""The package's CDXJ index: cdxj-indexer per WARC file, sorted on disk, merged, ZipNum-compressed when large.

Each WARC file of the package is indexed as its bytes go into the package
(`index_part`): cdxj-indexer sorts its lines with a bounded buffer, spilling
sorted runs to disk, into one scratch file per WARC file; warcio checks each
record's block and payload digests on the way, so a damaged record stops the
package. The sorted parts are then merged (`heapq.merge` reads a line of each
at a time) into `indexes/index.cdx`, or, past `ZIPNUM_LINES`, into ZipNum's
`indexes/index.cdx.gz` (gzip blocks of 1,024 lines, stored) and
`indexes/index.idx` (one line per block), which ReplayWeb.page reads a block
at a time.

Server-not-modified revisits (a 304 answered to a recheck) are left out, as in
`replay`'s own index: a player would replay the empty 304; the page at that
time replays from the capture that holds the unchanged payload.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cdxj_indexer.main import CDXJIndexer, CompressedWriter
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from portal_crawler.wacz.layout import PLAIN_INDEX, ZIPNUM_BLOCK, ZIPNUM_IDX, ZIPNUM_INDEX
from portal_crawler.wacz.package import PackageWriter
from portal_crawler.wacz.records import ChunkReader

SORT_BUFFER = 4 * 1024 * 1024  # characters of index lines cdxj-indexer sorts in memory before spilling a run
# What warcio and zlib raise on a damaged record (and records.py on a pointer past a file's end).
DAMAGE = (ArchiveLoadFailed, StatusAndHeadersParserException, zlib.error, EOFError, ValueError)


class RecordDamage(Exception):
    """A record of the WARC bytes being indexed is damaged; `offset` is where that record starts in them."""

    def __init__(self, offset: int, error: BaseException) -> None:
        super().__init__(" ".join(str(error).split()) or type(error).__name__)
        self.offset = offset


class StrictReader(DecompressingBufferedReader):
    """warcio's gzip reader, except that a member that fails to inflate part way raises instead of being cut short.

    warcio prints the zlib error on stderr and reads on as if the member had
    ended (its choice for salvaging damaged files); a package must not hold a
    damaged record, so here the error stops it.
    """

    def _decompress(self, data: bytes) -> bytes:
        if self.decompressor is not None and data and self.num_block_read > 0:
            return bytes(self.decompressor.decompress(data))  # zlib.error propagates
        return bytes(super()._decompress(data))


class CheckingIndexer(CDXJIndexer):
    """cdxj-indexer reading strictly: warcio's digest checks on, and a gzip member that breaks is an error."""

    records: ArchiveIterator | None = None

    def _create_record_iter(self, input_: Any) -> ArchiveIterator:
        self.records = ArchiveIterator(
            input_,
            no_record_parse=not self.record_parse,
            arc2warc=True,
            verify_http=self.verify_http,
            check_digests="raise",
        )
        self.records.reader = StrictReader(self.records.fh, block_size=self.records.reader.block_size)
        return self.records

    def record_offset(self) -> int:
        """Where the record being read starts (warcio moves its offset on once a record is read through)."""
        return int(getattr(self.records, "offset", 0) or 0)


class _KeptLines:
    """Where cdxj-indexer writes its sorted lines: the scratch file, without 304 revisits, counted."""

    def __init__(self, out: IO[str]) -> None:
        self.out, self.lines = out, 0

    def write(self, line: str) -> int:
        if not not_modified(line):
            self.out.write(line)
            self.lines += 1
        return len(line)

    def flush(self) -> None:
        self.out.flush()


def not_modified(line: str) -> bool:
    """A server-not-modified revisit's index line (cdxj-indexer's JSON: `"mime": "warc/revisit"`, `"status": "304"`)."""
    fields = line.split(" ", 2)[-1]
    return '"mime": "warc/revisit"' in fields and '"status": "304"' in fields


@dataclass(frozen=True)
class IndexPart:
    """One WARC file's sorted index lines, in a scratch file."""

    path: Path
    lines: int


def index_part(stream: ChunkReader, name: str, part: Path) -> IndexPart:
    """Index the WARC file `name` of the package as `stream` produces it, into the sorted scratch file `part`.

    Raises RecordDamage when a record cannot be read or its digests fail.
    """
    with open(part, "w", encoding="utf-8") as out:
        kept = _KeptLines(out)
        indexer = CheckingIndexer(kept, [stream], sort=True, max_sort_buff_size=SORT_BUFFER, filename=name)
        try:
            indexer.process_all()
        except DAMAGE as error:
            raise RecordDamage(indexer.record_offset(), error) from None
    return IndexPart(part, kept.lines)


def merged(parts: list[IndexPart], stack: ExitStack) -> Iterator[str]:
    """Every part's lines in one sorted order, a line of each part in memory at a time."""
    inputs = [stack.enter_context(part.path.open(encoding="utf-8")) for part in parts]
    return heapq.merge(*inputs)


def write_index(package: PackageWriter, parts: list[IndexPart], scratch: Path, zipnum_lines: int) -> tuple[str, int]:
    """The package's index entries; (the index's path in the package, its line count)."""
    total = sum(part.lines for part in parts)
    with ExitStack() as stack:
        lines = merged(parts, stack)
        if total <= zipnum_lines:
            package.add_lines(PLAIN_INDEX, lines)
            return PLAIN_INDEX, total
        idx = scratch / "index.idx"
        with open(idx, "w", encoding="utf-8") as idx_out, package.entry(ZIPNUM_INDEX, stored=True) as blocks:
            writer = CompressedWriter(idx_out, blocks, num_lines=ZIPNUM_BLOCK, data_out_name=Path(ZIPNUM_INDEX).name)
            for line in lines:
                writer.write(line)
            if writer.block:
                writer.flush()
    package.add_file(ZIPNUM_IDX, idx, stored=False)
    return ZIPNUM_INDEX, total
