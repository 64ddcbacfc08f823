"""Whether an index line of a package points at a record: the check `verify_wacz` makes of every line.

The line's file must be a stored WARC entry of the package; the bytes at its
offset, of its length, must be exactly one whole gzip member (the record
stored as one member, WARC 1.1 annex D), inflating to a WARC record whose
WARC-Target-URI is the line's URL and whose WARC-Date is its timestamp.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from typing import BinaryIO

from warcio.timeutils import iso_date_to_timestamp

from portal_crawler.wacz.layout import ARCHIVE_DIR
from portal_crawler.wacz.records import warc_fields
from portal_crawler.wacz.zipped import data_start

HEAD = 64 * 1024  # enough inflated bytes for any record's WARC header block


class PointedRecords:
    """The records of a package's WARC entries, read at an index line's offset and length."""

    def __init__(self, package: zipfile.ZipFile, raw: BinaryIO) -> None:
        self.raw = raw
        self.entries = {
            info.filename[len(ARCHIVE_DIR) :]: (data_start(raw, info), info.file_size)
            for info in package.infolist()
            if info.filename.startswith(ARCHIVE_DIR) and info.compress_type == zipfile.ZIP_STORED
        }

    def problem(self, line: str) -> str | None:
        """What is wrong with the line's pointer, or None when it points at its record."""
        try:
            _key, timestamp, text = line.rstrip("\n").split(" ", 2)
            fields = json.loads(text)
            name, offset, length = str(fields["filename"]), int(fields["offset"]), int(fields["length"])
            url = str(fields["url"])
        except (ValueError, KeyError, TypeError):
            return f"index line is not CDXJ with url, filename, offset and length: {line[:120].rstrip()!r}"
        where = f"index line {url} {timestamp} -> {name} offset {offset}"
        if name not in self.entries:
            return f"{where}: no stored WARC file {ARCHIVE_DIR}{name} in the package"
        start, size = self.entries[name]
        if offset < 0 or length <= 0 or offset + length > size:
            return f"{where}: points outside {ARCHIVE_DIR}{name} ({size} bytes)"
        self.raw.seek(start + offset)
        head = _one_member(self.raw.read(length))
        if head is None:
            return f"{where}: the {length} bytes there are not one whole gzip member"
        record = warc_fields(head) if head.startswith(b"WARC/") else {}
        found_url = record.get(b"warc-target-uri", b"").decode("utf-8", "replace")
        found_date = record.get(b"warc-date", b"").decode("ascii", "replace")
        if found_url != url or not found_date or iso_date_to_timestamp(found_date) != timestamp:
            return f"{where}: the record there is {found_url or 'not a WARC record'} {found_date}".rstrip()
        return None


def _one_member(data: bytes) -> bytes | None:
    """The first inflated bytes of `data` when it is exactly one whole gzip member, else None."""
    inflater, head = zlib.decompressobj(zlib.MAX_WBITS | 16), b""
    try:
        for start in range(0, len(data), HEAD):
            head += inflater.decompress(data[start : start + HEAD])[: max(0, HEAD - len(head))]
    except zlib.error:
        return None
    return head if inflater.eof and not inflater.unused_data else None
