"""An archive as verify and repair see it: every WARC file scanned, its catalogue's rows, and what a file's end means.

A crash can only tear the record being written, and the writer commits
catalogue rows only after their record is fsynced. So a file that ends inside
a record is a torn tail, which repair may cut, only when no catalogued record
lies at or after that point; otherwise records the catalogue vouches for are
gone, which is damage (`truncated`). NUL bytes after the last whole record (what
a power loss leaves where the next blocks were to go) belong to the torn tail.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from portal_crawler.catalogue import CapturePointer, Catalogue
from portal_crawler.core.errors import UsageProblem
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.warc.reader import RecordSummary, ScanResult, scan_file

CHUNK = 1 << 16
GZIP_TRAILER = 8  # CRC-32 and length, either of which may end in zero bytes
TailState = Literal["torn", "truncated", "unreadable"]


@dataclass
class Problem:
    """One thing wrong with the archive, located as precisely as it is known."""

    kind: str
    file: str | None
    offset: int | None
    record_id: str | None
    message: str

    def line(self) -> str:
        """`<file>: offset <N>: <record id>: <message>`, leaving out what is unknown."""
        where = None if self.offset is None else f"offset {self.offset}"
        return ": ".join(p for p in (self.file, where, self.record_id, self.message) if p)


class ScannedArchive:
    """The scanned WARC files of one archive and its catalogue's capture rows."""

    def __init__(self, paths: ArchivePaths, catalogue: Catalogue) -> None:
        self.paths, self.catalogue = paths, catalogue
        self.rows = list(catalogue.iter_captures())
        self.scans: dict[str, ScanResult] = {}
        self.unscannable: dict[str, str] = {}
        self.at: dict[tuple[str, int], RecordSummary] = {}
        self.by_id: dict[str, tuple[str, RecordSummary]] = {}
        named = {row.warc_filename for row in self.rows if (path := self.file(row.warc_filename)) and path.is_file()}
        on_disk = {p.name for p in paths.warc.glob("*.warc.gz")}
        for name in sorted(named | on_disk):
            self.scan(name)

    def file(self, name: str) -> Path | None:
        """The WARC file a pointer names, or None when the name reaches outside warc/."""
        try:
            return self.paths.warc_file(name)
        except UsageProblem:
            return None

    def path(self, name: str) -> Path:
        return self.paths.warc / name

    def scan(self, name: str) -> None:
        try:
            self.scans[name] = result = scan_file(self.path(name))
        except OSError as error:
            self.unscannable[name] = error.strerror or str(error)
            return
        for record in result.records:
            self.at[(name, record.offset)] = record
            self.by_id[record.record_id] = (name, record)

    def intact(self, name: str) -> bool:
        return name in self.scans and not self.scans[name].problems

    def rows_from(self, name: str, offset: int) -> list[CapturePointer]:
        """Capture rows pointing into `name` at or after `offset`, in file order."""
        rows = [r for r in self.rows if r.warc_filename == name and r.warc_offset >= offset]
        return sorted(rows, key=lambda r: r.warc_offset)

    def tail_state(self, name: str) -> TailState | None:
        """None for a whole file; else what stopped the scan: a cuttable torn tail, lost records, or damage."""
        scan = self.scans[name]
        if not scan.problems:
            return None
        if not (scan.torn or torn_then_zeros(self.path(name), scan.good_end)):
            return "unreadable"
        return "truncated" if self.rows_from(name, scan.good_end) else "torn"


def _data_end(path: Path) -> int:
    """The offset after the last byte that is not NUL (0 for a file of NULs)."""
    with open(path, "rb") as fh:
        end = fh.seek(0, 2)
        while end > 0:
            start = max(0, end - CHUNK)
            fh.seek(start)
            chunk = fh.read(end - start).rstrip(b"\0")
            if chunk:
                return start + len(chunk)
            end = start
    return 0


def torn_then_zeros(path: Path, offset: int) -> bool:
    """Whether the file from `offset` is the start of one gzip member, cut short, then only NUL bytes.

    A whole member may itself end in zero bytes (its length field), so up to a
    trailer's worth of the NULs is fed too: a member that then ends is no tear.
    """
    end, size = _data_end(path), path.stat().st_size
    if end >= size or end <= offset:
        return False  # no NUL run at the end (the reader's verdict stands), or only NULs (the reader's own case)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as fh:
        fh.seek(offset)
        left = end - offset
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            left -= len(chunk)
            try:
                inflater.decompress(chunk)
            except zlib.error:
                return False
            if inflater.eof:
                return False  # a whole member, and it was not a record: damage, not a tear
    try:
        inflater.decompress(b"\0" * min(GZIP_TRAILER, size - end))
    except zlib.error:
        return True  # the NULs are no part of the member: it was cut short
    return not inflater.eof
