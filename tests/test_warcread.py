"""Reindex's record reader (FastWARC, checked by hand) gives exactly what warcio gives, and reads on past damage."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from helpers import SAMPLES, compare, make_exchange, make_writer, prior_of

from portal_crawler.warc.archived import TornRecordError, WarcReadError
from portal_crawler.warc.captures import iter_records, records_past_damage
from portal_crawler.warc.reader import read_record
from portal_crawler.warc.revisit import resolve_revisit
from portal_crawler.warc.warcinfo import first_request_url, read_warcinfo

UTF8_ON_THE_WIRE = "Đồng Nai: ok".encode().decode("latin-1")  # header strings are the wire bytes as latin-1


def test_fastwarc_reading_equals_warcio_on_written_captures(tmp_path: Path) -> None:
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
    assert compare(path) == {"fast": 5, "careful": 0, "skipped": 6}  # warcinfo + 5 requests
    records = [r for _, _, r in iter_records(path)]
    assert [r.record_type for r in records] == ["response", "revisit", "revisit", "response", "response"]
    assert records[-1].header("X-Note") == "Đồng Nai: ok"  # as warcio reads it
    assert records[1].refers_to == first.record_id and records[1].entity == b""


def test_unusual_headers_read_as_warcio_reads_them(tmp_path: Path) -> None:
    """A latin-1 header value (not UTF-8) and a folded header line."""
    with make_writer(tmp_path) as writer:
        writer.write_exchange(make_exchange(response_headers=[("Content-Type", "text/html"), ("Server", "caf\xe9")]))
    written = next(tmp_path.glob("*.warc.gz"))
    folded = tmp_path / "folded.warc.gz"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Long: one\r\n two\r\n\r\n" + b"<p>folded</p>"
    folded.write_bytes(gzip.compress(_record(http)) + gzip.compress(_record(http, "2")))
    assert compare(written) == {"fast": 1, "careful": 0, "skipped": 2}
    assert compare(folded) == {"fast": 1, "careful": 1, "skipped": 0}  # the last record's length: careful
    ((_, _, response),) = iter_records(written)
    assert response.header("Server") == "caf\xe9"
    response = next(r for _, _, r in iter_records(folded))
    assert response.header("X-Long") == "one two" and response.entity == b"<p>folded</p>"


def _record(http: bytes, number: str = "1", declared: int | None = None) -> bytes:
    length = len(http) if declared is None else declared
    return (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:" + number.encode() + b">\r\n"
        b"WARC-Target-URI: http://127.0.0.1/a\r\nWARC-Date: 2026-11-23T12:00:00Z\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(length).encode() + b"\r\n\r\n" + http + b"\r\n\r\n"
    )


def test_a_block_shorter_than_its_length_is_damage_and_reading_goes_on(tmp_path: Path) -> None:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>x</p>"
    short = gzip.compress(_record(http, "1", declared=len(http) + 10)[:-4])
    path = tmp_path / "short.warc.gz"
    path.write_bytes(short + gzip.compress(_record(http, "2")) + gzip.compress(_record(http, "3")))
    with pytest.raises(WarcReadError, match="offset 0: record block length differs"):
        list(iter_records(path))
    found, damage = read_on(path)
    assert [r.record_id for _, _, r in found] == ["<urn:uuid:2>", "<urn:uuid:3>"]
    assert damage == [(0, len(short))]


def read_on(path: Path) -> tuple[list, list[tuple[int, int | None]]]:
    """Every capture `records_past_damage` reads, and each damaged place as (offset, offset read on from)."""
    damage: list[tuple[int, int | None]] = []
    found = list(records_past_damage(path, lambda error, resumed: damage.append((error.offset, resumed))))
    return found, damage


def sample(name: str) -> Path:
    return SAMPLES / f"{name}.warc.gz"


def test_the_broken_samples_are_read_past() -> None:
    good = [(o, n, r.record_id) for o, n, r in iter_records(sample("good"))]
    assert len(good) == 3  # response, identical-payload revisit, 304 revisit
    torn, damage = read_on(sample("torn-tail"))
    assert [(o, n, r.record_id) for o, n, r in torn] == good and damage == [(2406, None)]
    flipped, damage = read_on(sample("flipped-byte"))
    assert [(o, n, r.record_id) for o, n, r in flipped] == good[1:] and damage == [
        (good[0][0], good[0][0] + good[0][1])
    ]
    mismatch, damage = read_on(sample("digest-mismatch"))
    assert damage == [] and [r.payload_intact() for _, _, r in mismatch] == [False, True, True]
    assert all(r.payload_intact() for _, _, r in iter_records(sample("good")))


@pytest.mark.parametrize(
    "damage_of, expected, kept",
    [
        (lambda good: good + os.urandom(3000), [(2777, None)], 3),  # garbage appended
        (lambda good: good + b"\0" * 4096, [(2777, None)], 3),  # a torn tail after a power loss
        (lambda good: good[:816] + b"junk" * 100 + good[816:], [(816, 1216)], 3),  # garbage between two records
        (lambda good: good[:352] + good[700:], [(352, 468)], 2),  # a record cut in the middle, the rest whole
        (lambda good: gzip.decompress(good), [(0, None)], 0),  # not gzip at all
    ],
    ids=["garbage-appended", "nul-tail", "garbage-between", "cut-record", "uncompressed"],
)
def test_damage_is_named_and_read_past(tmp_path: Path, damage_of, expected, kept) -> None:
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(damage_of(sample("good").read_bytes()))
    found, damage = read_on(path)
    assert damage == expected
    good_ids = [r.record_id for _, _, r in iter_records(sample("good"))]
    assert [r.record_id for _, _, r in found] == good_ids[len(good_ids) - kept :]


def test_a_file_of_garbage_is_one_damaged_place(tmp_path: Path) -> None:
    path = tmp_path / "garbage.warc.gz"
    path.write_bytes(os.urandom(20000).replace(b"\x1f\x8b", b"\x1f\x8c"))
    found, damage = read_on(path)
    assert found == [] and damage == [(0, None)]


def test_nul_tail_is_called_torn(tmp_path: Path) -> None:
    path = tmp_path / "nul.warc.gz"
    path.write_bytes(sample("good").read_bytes() + b"\0" * 512)
    with pytest.raises(TornRecordError, match="NUL bytes"):
        list(iter_records(path))


def test_warcinfo_is_read_once_for_all(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        writer.write_exchange(make_exchange())
    path = next(tmp_path.glob("*.warc.gz"))
    info = read_warcinfo(path)
    assert (info.run_id, info.get("isPartOf"), info.scope) == (7, "mps", None)  # no scope: as 0.1.0 wrote them
    assert first_request_url(path) == make_exchange().url
    assert read_warcinfo(SAMPLES / "flipped-byte.warc.gz").run_id == 7
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(b"\x00not a warc")
    assert read_warcinfo(garbage).fields == {} and first_request_url(garbage) is None


def test_a_revisit_resolves_to_its_original_and_an_unknown_one_to_none(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        first = writer.write_exchange(make_exchange())
        revisit = writer.write_exchange(make_exchange(), prior_of(first))
    path = tmp_path / first.filename
    record = read_record(path, revisit.offset)
    assert record.record_type == "revisit" and record.entity == b""
    original = resolve_revisit(record, {first.record_id: (path, first.offset)}.get)
    assert original is not None and original.record_id == first.record_id
    assert original.entity == read_record(path, first.offset).entity != b""
    assert resolve_revisit(record, {}.get) is None
    assert resolve_revisit(record, {first.record_id: (path, revisit.offset)}.get) is None  # a loop: no original
    assert resolve_revisit(original, {}.get) is original
