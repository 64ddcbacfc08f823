"""Reading a package back: its entries, where a stored entry's bytes start in the file, its index lines.

A stored (uncompressed) entry's bytes lie in the ZIP file as they are, after
its local header, so a WARC record inside a WACZ can be read at
`data start + offset` straight from the file: by `verify` and by pywb, with
no unpacking. zipfile does not say where an entry's data starts (only where
its local header does), so the local header's two length fields are read
here (ZIP format, section 4.3.7).
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from portal_crawler.wacz.layout import PLAIN_INDEX, ZIPNUM_INDEX, WaczProblem

LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, 22 bytes we do not need, name length, extra length
LOCAL_SIGNATURE = b"PK\x03\x04"


@contextmanager
def open_package(path: Path) -> Iterator[zipfile.ZipFile]:
    """The package as a ZipFile; a missing file or one that is not a ZIP is a one-line WaczProblem."""
    try:
        package = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise WaczProblem(f"no such file: {path}") from None
    except IsADirectoryError:
        raise WaczProblem(f"{path} is a directory, not a WACZ file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise WaczProblem(f"{path} is not a WACZ file (not a readable ZIP: {error})") from None
    with package:
        yield package


def data_start(raw: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Where the entry's (stored) bytes start in the ZIP file."""
    raw.seek(info.header_offset)
    signature, name_length, extra_length = LOCAL_HEADER.unpack(raw.read(LOCAL_HEADER.size))
    if signature != LOCAL_SIGNATURE:
        raise ValueError(f"no local header for {info.filename} at offset {info.header_offset}")
    return info.header_offset + LOCAL_HEADER.size + name_length + extra_length


class Window(io.RawIOBase):
    """The bytes [start, start + size) of an open file, as a seekable file of their own."""

    def __init__(self, raw: BinaryIO, start: int, size: int) -> None:
        super().__init__()
        self.raw, self.start, self.size, self.position = raw, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), max(0, self.size - self.position))
        if wanted == 0:
            return 0
        self.raw.seek(self.start + self.position)
        data = self.raw.read(wanted)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def index_name(package: zipfile.ZipFile) -> str | None:
    """The package's CDXJ index entry (plain, or ZipNum's blocks), if it has one."""
    names = set(package.namelist())
    return next((name for name in (ZIPNUM_INDEX, PLAIN_INDEX) if name in names), None)


def index_lines(package: zipfile.ZipFile) -> Iterator[str]:
    """Every CDXJ line of the package, in the index's order (ZipNum blocks are gzip members, read in turn)."""
    name = index_name(package)
    if name is None:
        return
    with package.open(name) as entry, _text(entry, zipnum=name == ZIPNUM_INDEX) as stream:
        for line in stream:
            if line.strip():
                yield line if line.endswith("\n") else line + "\n"


def _text(entry: IO[bytes], *, zipnum: bool) -> IO[str]:
    return gzip.open(entry, "rt", encoding="utf-8") if zipnum else io.TextIOWrapper(entry, "utf-8")
