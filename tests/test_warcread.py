"""Reindex's quick record reader gives exactly what warcio gives, and hands warcio whatever is unusual."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from test_warc import make_exchange, make_writer, prior_of

from portal_crawler.warc.reader import (
    _members,
    _parse,
    _response,
    iter_records,
    quick_capture,
)
from portal_crawler.warc.records import CAPTURE_TYPES


def warcio_reading(path: Path) -> list[tuple[int, int, object]]:
    """(offset, length, ArchivedResponse or record type) of every record, read by warcio alone."""
    read = []
    for offset, length, member in _members(path):
        record = _parse(member, path, offset)
        read.append(
            (offset, length, _response(record, path, offset) if record.rec_type in CAPTURE_TYPES else record.rec_type)
        )
    return read


def compare(path: Path) -> dict[str, int]:
    """Every record of a file read both ways; counts of how the quick reader took them."""
    counts = {"quick": 0, "warcio": 0, "skipped": 0}
    by_warcio = warcio_reading(path)
    for (offset, length, member), (_, _, expected) in zip(_members(path), by_warcio):
        quick = quick_capture(member)
        if quick is None:
            counts["warcio"] += 1
        elif quick is False:
            assert isinstance(expected, str), (offset, expected)
            counts["skipped"] += 1
        else:
            assert quick == expected, offset
            counts["quick"] += 1
    captures = [(o, n, r) for o, n, r in by_warcio if not isinstance(r, str)]
    assert list(iter_records(path)) == captures
    return counts


UTF8_ON_THE_WIRE = "Đồng Nai: ok".encode().decode("latin-1")  # header strings are the wire bytes as latin-1


def test_quick_reading_equals_warcio_on_written_captures(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        first = writer.write_exchange(make_exchange())
        writer.write_exchange(make_exchange(), prior_of(first))  # identical payload: revisit
        writer.write_not_modified(make_exchange(status=304, reason="Not Modified", body=b""), prior_of(first))
        writer.write_exchange(
            make_exchange(
                status=404, reason="Not Found", body=b"gone", response_headers=[("Content-Type", "text/plain")]
            )
        )
        writer.write_exchange(
            make_exchange(response_headers=[("Content-Type", "text/html"), ("X-Note", UTF8_ON_THE_WIRE)])
        )
    path = next(tmp_path.glob("*.warc.gz"))
    assert compare(path) == {"quick": 5, "warcio": 0, "skipped": 6}  # warcinfo + 5 requests
    assert [r.header("X-Note") for _, _, r in iter_records(path)][-1] == "Đồng Nai: ok"  # as warcio reads it


def test_unusual_headers_are_left_to_warcio(tmp_path: Path) -> None:
    """A latin-1 header value (not UTF-8) and a folded header line: warcio reads those records."""
    with make_writer(tmp_path) as writer:
        writer.write_exchange(make_exchange(response_headers=[("Content-Type", "text/html"), ("Server", "caf\xe9")]))
    written = next(tmp_path.glob("*.warc.gz"))
    folded = tmp_path / "folded.warc.gz"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Long: one\r\n two\r\n\r\n" + b"<p>folded</p>"
    record = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        b"WARC-Target-URI: http://127.0.0.1/a\r\nWARC-Date: 2026-11-23T12:00:00Z\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(http)).encode() + b"\r\n\r\n" + http + b"\r\n\r\n"
    )
    folded.write_bytes(gzip.compress(record))
    assert compare(written) == {"quick": 0, "warcio": 1, "skipped": 2}
    assert compare(folded) == {"quick": 0, "warcio": 1, "skipped": 0}
    ((_, _, response),) = iter_records(written)
    assert response.header("Server") == "caf\xe9"
    ((_, _, response),) = iter_records(folded)
    assert response.header("X-Long") == "one two" and response.entity == b"<p>folded</p>"


@pytest.mark.parametrize("cut", ["block", "http-head"])
def test_short_records_are_left_to_warcio(tmp_path: Path, cut: str) -> None:
    """A block shorter than its Content-Length, or with no end to its HTTP head, is not read quickly."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>x</p>"
    if cut == "http-head":
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
    declared = len(http) + (10 if cut == "block" else 0)
    member = (
        b"WARC/1.1\r\nWARC-Type: response\r\nContent-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(declared).encode() + b"\r\n\r\n" + http
    )
    assert quick_capture(member) is None
