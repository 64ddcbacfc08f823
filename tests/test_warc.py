"""The WARC writer and reader: byte-exact records, rotation, revisits, broken files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from helpers import BIN, PAGE, SAMPLES, T0, URL, make_exchange, make_writer, prior_of

from portal_crawler.warc.reader import (
    WarcReadError,
    check_digests,
    iter_records,
    read_record,
    scan_file,
)
from portal_crawler.warc.records import (
    RecordPointer,
    payload_digest,
)
from portal_crawler.warc.writer import stored_headers


def members(path: Path) -> list[bytes]:
    """Each gzip member of a file, decompressed."""
    data, out = path.read_bytes(), []
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out.append(inflater.decompress(data))
        data = inflater.unused_data
    return out


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "warcio", "check", "-v", str(path)], capture_output=True, text=True)


def test_stored_headers_agree_with_the_stored_entity():
    headers = [
        ("Transfer-Encoding", "chunked"),
        ("Content-Encoding", "gzip"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert stored_headers(headers, 34) == [
        ("Content-Encoding", "gzip"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Length", "34"),
    ]
    wrong = [("Content-Length", "999"), ("Date", "x"), ("content-length", "5")]
    assert stored_headers(wrong, 7) == [("Content-Length", "7"), ("Date", "x")]


def test_response_record_is_byte_exact(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    entity = gzip.compress(PAGE, mtime=0)
    http_block = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Encoding: gzip\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n"
        b"Content-Length: %d\r\n\r\n" % len(entity) + entity
    )
    expected = (
        b"WARC/1.1\r\nWARC-Type: response\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
        b"WARC-Date: 2026-11-23T12:00:00.123456Z\r\nWARC-IP-Address: 127.0.0.1\r\n"
        b"WARC-Target-URI: " + URL.encode() + b"\r\n"
        b"WARC-Payload-Digest: " + payload_digest(entity).encode() + b"\r\n"
        b"WARC-Block-Digest: " + payload_digest(http_block).encode() + b"\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: %d\r\n\r\n" % len(http_block) + http_block + b"\r\n\r\n"
    )
    assert members(tmp_path / pointer.filename)[1] == expected
    assert pointer.filename == "MPS-20261123120000123-00000-crawler1.warc.gz"
    assert (pointer.record_type, pointer.warc_date) == ("response", "2026-11-23T12:00:00.123456Z")


def test_request_record_is_concurrent_to_the_response(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    request = members(tmp_path / pointer.filename)[2]
    assert b"WARC-Type: request\r\n" in request
    assert b"WARC-Concurrent-To: " + pointer.record_id.encode() + b"\r\n" in request
    assert request.endswith(
        b"\r\n\r\nGET /en/news/t6294.html?x=1 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:8000\r\nAccept-Encoding: gzip, deflate\r\n\r\n\r\n\r\n"
    )
    summary = next(r for r in scan_file(tmp_path / pointer.filename).records if r.offset == pointer.request_offset)
    assert (summary.record_type, summary.length) == ("request", pointer.request_length)


def test_same_inputs_give_identical_files(tmp_path):
    for run in ("a", "b"):
        with make_writer(tmp_path / run) as writer:
            writer.write_exchange(make_exchange())
    [first], [second] = (list((tmp_path / run).iterdir()) for run in ("a", "b"))
    assert first.read_bytes() == second.read_bytes()


def test_warcinfo_opens_the_file(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    warcinfo = members(tmp_path / pointer.filename)[0].decode()
    assert warcinfo.startswith("WARC/1.1\r\nWARC-Type: warcinfo\r\n")
    assert f"WARC-Filename: {pointer.filename}\r\n" in warcinfo
    for line in (
        "software: portal-crawler/0.1.0",
        "format: WARC File Format 1.1",
        "isPartOf: mps",
        "run-id: 7",
    ):
        assert line + "\r\n" in warcinfo


def test_pointers_read_back(tmp_path):
    with make_writer(tmp_path) as writer:
        pointers = [writer.write_exchange(make_exchange(PAGE + bytes([n]))) for n in range(3)]
        record = read_record(tmp_path / pointers[2].filename, pointers[2].offset)  # before close
    assert (record.record_id, record.url, record.status, record.reason) == (pointers[2].record_id, URL, 200, "OK")
    assert record.payload_digest == pointers[2].payload_digest == payload_digest(record.entity)
    assert record.decoded_body() == PAGE + b"\x02"
    assert record.header("content-encoding") == "gzip"
    assert [v for k, v in record.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    found = [(offset, length) for offset, length, _ in iter_records(tmp_path / pointers[0].filename)]
    assert found == [(p.offset, p.length) for p in pointers]


def test_rotation_keeps_pairs_together(tmp_path):
    with make_writer(tmp_path, max_size=1500) as writer:
        pointers = [writer.write_exchange(make_exchange(PAGE * n)) for n in range(1, 6)]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) > 1
    assert names == [f"MPS-20261123120000123-{n:05d}-crawler1.warc.gz" for n in range(len(names))]
    for name in names:
        kinds = [r.record_type for r in scan_file(tmp_path / name).records]
        assert kinds[0] == "warcinfo" and kinds[1:] == ["response", "request"] * (len(kinds) // 2)
        assert warcio_check(tmp_path / name).returncode == 0
    for pointer in pointers:
        assert read_record(tmp_path / pointer.filename, pointer.offset).record_id == pointer.record_id


def test_a_new_writer_never_appends(tmp_path):
    with make_writer(tmp_path) as writer:
        first = writer.write_exchange(make_exchange())
    size = (tmp_path / first.filename).stat().st_size
    with make_writer(tmp_path) as writer:
        second = writer.write_exchange(make_exchange())
    assert second.filename == "MPS-20261123120000123-00001-crawler1.warc.gz"
    assert (tmp_path / first.filename).stat().st_size == size


def test_identical_payload_becomes_a_revisit(tmp_path):
    with make_writer(tmp_path) as writer:
        original = writer.write_exchange(make_exchange())
    later = T0 + timedelta(days=1)
    with make_writer(tmp_path, at=later) as writer:
        revisit = writer.write_exchange(make_exchange(at=later), prior_of(original))
        changed = writer.write_exchange(make_exchange(PAGE + b"!", at=later), prior_of(original))
    record = read_record(tmp_path / revisit.filename, revisit.offset)
    assert (record.record_type, record.refers_to, record.entity) == ("revisit", original.record_id, b"")
    assert (record.refers_to_url, record.refers_to_date) == (URL, original.warc_date)
    assert record.payload_digest == original.payload_digest == revisit.payload_digest
    assert record.header("Content-Length") == str(len(gzip.compress(PAGE, mtime=0)))
    block = members(tmp_path / revisit.filename)[1]
    assert b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n" in block
    assert changed.record_type == "response"
    assert warcio_check(tmp_path / revisit.filename).returncode == 0


def test_not_modified_is_a_server_not_modified_revisit(tmp_path):
    with make_writer(tmp_path) as writer:
        original = writer.write_exchange(make_exchange())
        answer = make_exchange(
            status=304,
            reason="Not Modified",
            body=b"",
            response_headers=[("ETag", '"v1"'), ("Transfer-Encoding", "chunked")],
        )
        pointer = writer.write_not_modified(answer, prior_of(original))
    record = read_record(tmp_path / pointer.filename, pointer.offset)
    assert (record.record_type, record.status, record.reason) == ("revisit", 304, "Not Modified")
    assert (record.refers_to, record.headers) == (original.record_id, [("ETag", '"v1"')])
    assert pointer.payload_digest == original.payload_digest
    block = members(tmp_path / pointer.filename)[3]
    assert b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/server-not-modified\r\n" in block
    assert warcio_check(tmp_path / pointer.filename).returncode == 0


def test_torn_tail_is_found_and_truncation_repairs_it(tmp_path):
    with make_writer(tmp_path) as writer:
        whole = writer.write_exchange(make_exchange())
        torn = writer.write_exchange(make_exchange(PAGE * 3))
    path = tmp_path / whole.filename
    path.write_bytes(path.read_bytes()[: torn.request_offset + 40])
    scan = scan_file(path)
    assert (scan.torn, scan.good_end) == (True, torn.request_offset)
    assert f"offset {torn.request_offset}" in scan.problems[0]
    with pytest.raises(WarcReadError, match="cut short"):
        list(iter_records(path))
    with open(path, "r+b") as fh:
        fh.truncate(scan.good_end)
    assert scan_file(path).problems == [] and warcio_check(path).returncode == 0


def test_flipped_byte_is_detected(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    path = tmp_path / pointer.filename
    data = bytearray(path.read_bytes())
    data[pointer.offset + pointer.length // 2] ^= 0x01
    path.write_bytes(data)
    scan = scan_file(path)
    assert not scan.torn and scan.good_end == pointer.offset
    with pytest.raises(WarcReadError, match=rf"{pointer.filename}: offset {pointer.offset}"):
        read_record(path, pointer.offset)


def forge(path: Path, pointer: RecordPointer, change) -> None:
    """Rewrite one record with `change` applied to its bytes, re-gzipped so only digests can tell."""
    data = path.read_bytes()
    record = zlib.decompress(data[pointer.offset : pointer.offset + pointer.length], 31)
    forged = gzip.compress(change(record), mtime=0)
    path.write_bytes(data[: pointer.offset] + forged + data[pointer.offset + pointer.length :])


def test_altered_header_fails_the_block_digest(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    path = tmp_path / pointer.filename
    forge(path, pointer, lambda record: record.replace(b"Set-Cookie: a=1", b"Set-Cookie: a=2"))
    problems = check_digests(path, pointer.offset)
    assert len(problems) == 1 and problems[0].startswith("WARC-Block-Digest mismatch")
    assert warcio_check(path).returncode == 1


def test_altered_entity_fails_both_digests(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    path = tmp_path / pointer.filename
    forge(path, pointer, lambda record: record[:-6] + bytes([record[-6] ^ 1]) + record[-5:])
    problems = check_digests(path, pointer.offset)
    assert [p.split()[0] for p in problems] == ["WARC-Block-Digest", "WARC-Payload-Digest"]
    records = scan_file(path).records
    assert [r.record_type for r in records if r.digest_problems] == ["response"]
    assert check_digests(path, records[-1].offset) == []  # the request record after it


def test_unreadable_offsets_raise_clear_errors(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    path = tmp_path / pointer.filename
    for offset, reason in (
        (pointer.request_offset, "a request record"),
        (pointer.offset + 1, "not a readable gzip member"),
        (path.stat().st_size, "past the end"),
    ):
        with pytest.raises(WarcReadError, match=reason):
            read_record(path, offset)
    with pytest.raises(WarcReadError, match="No such file"):
        read_record(tmp_path / "missing.warc.gz", 0)


def test_decoded_body_undoes_deflate(tmp_path):
    deflated = zlib.compress(PAGE)
    exchange = make_exchange(body=deflated, response_headers=[("Content-Encoding", "deflate")])
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(exchange)
    assert read_record(tmp_path / pointer.filename, pointer.offset).decoded_body() == PAGE


PYWB_REPLAY = """
import io, json, sys
from pywb.apps.frontendapp import FrontEndApp
root, path = sys.argv[1:]
with open(root + "/config.yaml", "w") as config:
    config.write(f"collections:\\n  c:\\n    index_paths: {root}/index.cdxj\\n    archive_paths: {root}/\\n")
app = FrontEndApp(config_file=root + "/config.yaml")
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "localhost",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
           "HTTP_HOST": "localhost", "SCRIPT_NAME": "", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
answer = {}
def start_response(status, headers, exc_info=None):
    answer.update(status=status, headers=headers)
answer["body"] = b"".join(app(environ, start_response)).decode("latin-1")
print(json.dumps(answer))
"""


def test_cdxj_indexer_and_pywb_resolve_the_revisit(tmp_path):
    with make_writer(tmp_path) as writer:
        original = writer.write_exchange(make_exchange())
    later = T0 + timedelta(days=1)
    with make_writer(tmp_path, at=later) as writer:
        writer.write_exchange(make_exchange(at=later), prior_of(original))
    files = sorted(str(p) for p in tmp_path.glob("*.warc.gz"))
    index = subprocess.run([BIN / "cdxj-indexer", *files], capture_output=True, text=True, check=True)
    lines = [json.loads(line.split(" ", 2)[2]) for line in index.stdout.splitlines()]
    assert [(line["mime"], line["status"]) for line in lines] == [("text/html", "200"), ("warc/revisit", "200")]
    (tmp_path / "index.cdxj").write_text(index.stdout)
    replay = subprocess.run(
        [sys.executable, "-c", PYWB_REPLAY, str(tmp_path), f"/c/20261124120000id_/{URL}"],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(replay.stdout.splitlines()[-1])
    headers = dict(answer["headers"])
    assert answer["status"] == "200 OK" and answer["body"] == PAGE.decode()
    assert headers["Memento-Datetime"] == "Tue, 24 Nov 2026 12:00:00 GMT"


@pytest.mark.parametrize("coding, module", [("br", "brotli"), ("zstd", "backports.zstd")])
def test_decoded_body_undoes_the_codings_scrapy_advertises(tmp_path, coding, module):
    codec = pytest.importorskip(module)
    exchange = make_exchange(body=codec.compress(PAGE), response_headers=[("Content-Encoding", coding)])
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(exchange)
    assert read_record(tmp_path / pointer.filename, pointer.offset).decoded_body() == PAGE


def test_decoded_body_reports_unknown_or_broken_codings(tmp_path):
    with make_writer(tmp_path) as writer:
        unknown = writer.write_exchange(make_exchange(response_headers=[("Content-Encoding", "compress")]))
        broken = writer.write_exchange(make_exchange(body=b"not gzip"))
    path = tmp_path / unknown.filename
    with pytest.raises(ValueError, match="unsupported Content-Encoding 'compress'"):
        read_record(path, unknown.offset).decoded_body()
    with pytest.raises(ValueError, match="cannot undo Content-Encoding gzip"):
        read_record(path, broken.offset).decoded_body()


def test_a_tail_of_nul_bytes_counts_as_torn(tmp_path):
    with make_writer(tmp_path) as writer:
        pointer = writer.write_exchange(make_exchange())
    path = tmp_path / pointer.filename
    size = path.stat().st_size
    with open(path, "ab") as fh:
        fh.write(b"\0" * 4096)
    scan = scan_file(path)
    assert (scan.torn, scan.good_end, len(scan.records)) == (True, size, 3)


def test_naive_fetch_time_is_refused(tmp_path):
    with make_writer(tmp_path) as writer, pytest.raises(ValueError, match="no time zone"):
        writer.write_exchange(make_exchange(at=datetime(2026, 11, 23, 12, 0)))


def build_samples(directory: Path) -> None:
    """Good and deliberately broken files for verify/reindex tests (`python tests/test_warc.py`)."""
    directory.mkdir(parents=True, exist_ok=True)
    with make_writer(directory / "work") as writer:
        original = writer.write_exchange(make_exchange())
        writer.write_exchange(make_exchange(), prior_of(original))
        answer = make_exchange(status=304, reason="Not Modified", body=b"", response_headers=[])
        last = writer.write_not_modified(answer, prior_of(original))
    [built] = (directory / "work").iterdir()
    good = built.read_bytes()
    built.unlink()
    (directory / "work").rmdir()
    flipped = bytearray(good)
    flipped[original.offset + original.length // 2] ^= 0x01
    (directory / "good.warc.gz").write_bytes(good)
    (directory / "torn-tail.warc.gz").write_bytes(good[: last.request_offset + last.request_length // 2])
    (directory / "flipped-byte.warc.gz").write_bytes(bytes(flipped))
    (directory / "digest-mismatch.warc.gz").write_bytes(good)
    forge(
        directory / "digest-mismatch.warc.gz",
        original,
        lambda record: record[:-6] + bytes([record[-6] ^ 1]) + record[-5:],
    )


def test_samples_are_current_and_broken_as_named(tmp_path):
    build_samples(tmp_path)  # compared decompressed: another zlib may compress differently
    assert members(SAMPLES / "good.warc.gz") == members(tmp_path / "good.warc.gz"), "rebuild samples"
    scans = {
        name: scan_file(SAMPLES / f"{name}.warc.gz")
        for name in ("good", "torn-tail", "flipped-byte", "digest-mismatch")
    }
    assert not any(s.problems or s.torn for s in (scans["good"], scans["digest-mismatch"]))
    assert scans["torn-tail"].torn and len(scans["torn-tail"].records) == 6
    assert not scans["flipped-byte"].torn and len(scans["flipped-byte"].records) == 1
    assert [r.record_type for r in scans["digest-mismatch"].records if r.digest_problems] == ["response"]


if __name__ == "__main__":
    build_samples(SAMPLES)
