"""The warcinfo record that opens each WARC file: which run wrote it, with which profile, for which hosts.

The one reader of it (reindex, verify, and anyone who asks which run a file
belongs to). The writer puts `run-id`, `mode`, `profile`, `robots` and `scope`
(the run's host[:port] list; files written by 0.1.0 have none) there, one
`name: value` a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

FIRST_RECORDS = 16  # how far `first_request_url` looks: a run's first request is its second record pair


@dataclass(frozen=True)
class WarcInfo:
    """The fields of a file's warcinfo record (empty when the file does not open with one)."""

    fields: dict[str, str]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.fields.get(name, default)

    @property
    def run_id(self) -> int | None:
        value = self.fields.get("run-id", "")
        return int(value) if value.isdigit() else None

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The run's host[:port] list, lower case; None when the file does not say (written by 0.1.0)."""
        if "scope" not in self.fields:
            return None
        return tuple(origin.split("//", 1)[-1].lower() for origin in self.fields["scope"].split())


def read_warcinfo(path: Path) -> WarcInfo:
    """The warcinfo record at the start of the file; an unreadable file gives an empty one."""
    try:
        with open(path, "rb") as fh:
            first = next(iter(ArchiveIterator(fh, parse_http=False)), None)
            if first is None or first.record_type != WarcRecordType.warcinfo:
                return WarcInfo({})
            text = first.reader.read().decode("utf-8", "replace")
    except OSError:  # damage is reported by whoever reads the records
        return WarcInfo({})
    return WarcInfo(parse_fields(text))


def parse_fields(text: str) -> dict[str, str]:
    """`name: value` lines (application/warc-fields) as a dict; the first of a repeated name wins."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            fields.setdefault(name.strip(), value.strip())
    return fields


def first_request_url(path: Path) -> str | None:
    """The target of the file's first request record: for a run's first file, its start URL or robots.txt."""
    try:
        with open(path, "rb") as fh:
            for number, record in enumerate(ArchiveIterator(fh, parse_http=False)):
                if record.record_type == WarcRecordType.request:
                    return record.headers.get("WARC-Target-URI")
                if number >= FIRST_RECORDS:
                    break
    except OSError:
        pass
    return None
