"""warc/compose.py writes, record for record, the bytes warcio's own builder writes (the writer's reference).

`warcio_records` below is the writer as it was before compose.py (warcio's
RecordBuilder and WARCWriter), kept here as the reference: for every kind of
exchange the writer meets, both must inflate to identical bytes. The gzip
members are then read back by gzip, warcio and FastWARC, with the payload
stored or deflated as compose.py chose.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from fastwarc.warc import ArchiveIterator as FastIterator
from helpers import T0, make_exchange, prior_of, record_ids
from warcio.archiveiterator import ArchiveIterator
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portal_crawler.core.times import warc_date
from portal_crawler.warc.compose import already_compressed, gzip_member
from portal_crawler.warc.records import IDENTICAL_PAYLOAD, SERVER_NOT_MODIFIED, Exchange, PriorCapture
from portal_crawler.warc.writer import WarcWriter, reason_phrase, request_target, stored_headers

BUILDER = RecordBuilder(warc_version="1.1")


class WireHeaders(StatusAndHeaders):
    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self.to_str(header_filter).encode("latin-1") + b"\r\n"


def warcio_records(exchange: Exchange, ids: list[str], prior: PriorCapture | None, not_modified: bool) -> list[bytes]:
    """The capture and request records as warcio writes them, inflated (the writer before compose.py)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="1.1")

    def fields(kind: str, record_id: str) -> dict[str, str]:
        made = {"WARC-Type": kind, "WARC-Record-ID": record_id, "WARC-Date": warc_date(exchange.fetched_at)}
        if exchange.ip_address:
            made["WARC-IP-Address"] = exchange.ip_address
        return made

    status = WireHeaders(
        f"{exchange.status} {exchange.reason or reason_phrase(exchange.status)}",
        [(k, v) for k, v in exchange.response_headers if k.lower() != "transfer-encoding"]
        if not_modified
        else stored_headers(exchange.response_headers, len(exchange.body)),
        protocol=exchange.protocol,
    )
    if prior is not None:
        revisit_fields = {**fields("revisit", ids[0]), "WARC-Refers-To": prior.record_id}
        capture = BUILDER.create_revisit_record(
            exchange.url, prior.payload_digest, prior.url, prior.warc_date, status, revisit_fields
        )
        capture.rec_headers.replace_header("WARC-Profile", SERVER_NOT_MODIFIED if not_modified else IDENTICAL_PAYLOAD)
    else:
        capture = BUILDER.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            http_headers=status,
            warc_headers_dict=fields("response", ids[0]),
        )
    line = f"{exchange.method} {request_target(exchange.url)} {exchange.protocol}"
    request = BUILDER.create_warc_record(
        exchange.url,
        "request",
        payload=io.BytesIO(exchange.request_body),
        length=len(exchange.request_body),
        warc_headers_dict={**fields("request", ids[1]), "WARC-Concurrent-To": ids[0]},
        http_headers=WireHeaders(line, list(exchange.request_headers)),
    )
    records = []
    for record in (capture, request):
        start = out.tell()
        writer.write_record(record)
        records.append(out.getvalue()[start:])
    return records


def inflated_members(data: bytes) -> list[bytes]:
    out = []
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out.append(inflater.decompress(data))
        data = inflater.unused_data
    return out


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
CASES = {
    "gzipped page": {},
    "jpeg": {"body": JPEG, "response_headers": [("Content-Type", "image/jpeg"), ("Content-Length", "999")]},
    "plain text": {"body": b"User-agent: *\nDisallow:\n" * 50, "response_headers": [("Content-Type", "text/plain")]},
    "404, no body": {"status": 404, "reason": "Not Found", "body": b"", "response_headers": []},
    "unknown status, no reason": {"status": 599, "reason": "", "body": b"x"},
    "utf-8 URL, latin-1 header": {
        "url": "http://127.0.0.1:8000/tin-t%E1%BB%A9c/b%C3%A0i-vi%E1%BA%BFt-t1.html?q=c\u00f4ng",
        "response_headers": [("Content-Type", "text/html"), ("X-Name", "Bộ Công an".encode().decode("latin-1"))],
        "body": "<p>Bộ Công an</p>".encode(),
    },
    "POST with a body": {"method": "POST", "request_body": b'{"page":0}', "body": b"{}"},
    "no IP address": {"ip_address": None},
    "HTTP/1.0": {"protocol": "HTTP/1.0"},
}


@pytest.mark.parametrize("changes", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("kind", ["response", "identical-payload revisit", "304 revisit"])
def test_every_record_is_the_bytes_warcio_writes(tmp_path: Path, changes: dict, kind: str) -> None:
    exchange = make_exchange(**changes)
    with WarcWriter(tmp_path, host="h", clock=lambda: T0, make_record_id=record_ids()) as writer:
        prior = None
        if kind != "response":
            prior = prior_of(writer.write_exchange(exchange))
        if kind == "304 revisit":
            exchange = replace(exchange, status=304, reason="Not Modified", body=b"")
            pointer = writer.write_not_modified(exchange, prior)  # type: ignore[arg-type]
        else:
            pointer = writer.write_exchange(exchange, prior)
    data = (tmp_path / pointer.filename).read_bytes()
    ours = inflated_members(data[pointer.offset : pointer.request_offset + pointer.request_length])
    ids = [pointer.record_id, ours[1].split(b"WARC-Record-ID: ")[1].split(b"\r\n")[0].decode()]
    assert ours == warcio_records(exchange, ids, prior, kind == "304 revisit")
    assert pointer.record_type == ("response" if kind == "response" else "revisit")


def test_a_compressed_payload_is_stored_and_every_reader_inflates_it() -> None:
    head = b"WARC/1.1\r\nWARC-Type: response\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
    payload = gzip.compress(b"<p>page</p>" * 2000, mtime=0)
    stored = gzip_member(head, payload, store_payload=True)
    deflated = gzip_member(head, payload)
    assert gzip.decompress(stored) == gzip.decompress(deflated) == head + payload + b"\r\n\r\n"
    # stored blocks: the payload's bytes appear as they are, at 5 bytes of framing per 64 KB block
    assert payload in stored and len(stored) < len(head) + len(payload) + 64


def test_warcio_and_fastwarc_read_stored_and_deflated_records(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, host="h", clock=lambda: T0, make_record_id=record_ids()) as writer:
        for changes in CASES.values():
            writer.write_exchange(make_exchange(**changes))
    [path] = tmp_path.iterdir()
    with path.open("rb") as stream:
        read = [(r.rec_type, r.raw_stream.read()) for r in ArchiveIterator(stream)]
    assert [body for kind, body in read if kind == "response"] == [make_exchange(**c).body for c in CASES.values()]
    with path.open("rb") as stream:  # FastWARC checks the block digest of every record...
        blocks = [r.verify_block_digest() for r in FastIterator(stream, parse_http=False)]
    with path.open("rb") as stream:  # ...and the payload digest of every response
        payloads = [r.verify_payload_digest() for r in FastIterator(stream) if r.headers["WARC-Type"] == "response"]
    assert blocks == [True] * (1 + 2 * len(CASES)) and payloads == [True] * len(CASES)


@pytest.mark.parametrize(
    "headers, stored",
    [
        ([("Content-Encoding", "gzip"), ("Content-Type", "text/html")], True),
        ([("content-encoding", " br ")], True),
        ([("Content-Encoding", "identity"), ("Content-Type", "text/html")], False),
        ([("Content-Type", "image/JPEG; q=1")], True),
        ([("Content-Type", "video/mp4")], True),
        ([("Content-Type", "image/svg+xml")], False),
        ([("Content-Type", "application/json")], False),
        ([], False),
    ],
)
def test_only_compressed_entities_are_stored(headers: list[tuple[str, str]], stored: bool) -> None:
    assert already_compressed(headers) is stored


def test_the_writer_stores_what_is_compressed_and_deflates_the_rest(tmp_path: Path) -> None:
    text = b"<p>the same paragraph again</p>\n" * 500
    with WarcWriter(tmp_path, host="h", clock=lambda: T0, make_record_id=record_ids()) as writer:
        page = writer.write_exchange(make_exchange(body=text, response_headers=[("Content-Type", "text/html")]))
        photo = writer.write_exchange(make_exchange(url="http://127.0.0.1:8000/p.jpg", **CASES["jpeg"]))
    data = (tmp_path / page.filename).read_bytes()
    assert page.length < len(text) / 10  # deflated
    assert JPEG in data[photo.offset : photo.offset + photo.length]  # stored as it came
