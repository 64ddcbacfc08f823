"""Scrapy -> Exchange -> WARC, first on hand-made responses, then through a real crawl."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from warcio.archiveiterator import ArchiveIterator

from portal_crawler.crawl.capture import exchange_from_scrapy
from portal_crawler.warc.reader import iter_records, scan_file

BIN = Path(sys.executable).parent
FETCHED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAGE = b"<html><body><p>" + b"The portal page. " * 40 + b"</p></body></html>"


def test_exchange_keeps_repeated_headers_and_adds_host():
    request = Request(
        "http://127.0.0.1:8080/en/news?Page=2#top",
        method="POST",
        body=b"q=1",
        headers={"Accept-Encoding": "gzip, deflate"},
    )
    response = HtmlResponse(
        "http://127.0.0.1:8080/en/news?Page=2",
        status=404,
        body=b"gone",
        protocol="HTTP/1.1",
        ip_address=ip_address("127.0.0.1"),
        headers=[(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"), (b"Server", b"caf\xe9")],
    )
    exchange = exchange_from_scrapy(request, response, FETCHED)
    assert exchange.request_headers == [
        ("Host", "127.0.0.1:8080"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Content-Length", "3"),
    ]
    assert exchange.response_headers == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Server", "caf\xe9")]
    assert (exchange.status, exchange.reason, exchange.ip_address) == (404, "Not Found", "127.0.0.1")
    assert (exchange.method, exchange.request_body, exchange.body) == ("POST", b"q=1", b"gone")


def test_unknown_status_gets_a_placeholder_reason():
    response = HtmlResponse("http://example.org/", status=599, body=b"")
    exchange = exchange_from_scrapy(Request("http://user:pw@example.org/"), response, FETCHED)
    assert exchange.reason == "Unknown" and exchange.request_headers[0] == ("Host", "example.org")
    assert exchange.ip_address is None and exchange.protocol == "HTTP/1.1"


class PortalStub(BaseHTTPRequestHandler):
    """Answers gzip + chunked + two Set-Cookie on /page, plain Content-Length on /plain."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/page":
            self._chunked_gzip()
        else:
            self.send_response(200, "All Good")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"plain")

    def _chunked_gzip(self) -> None:
        entity = gzip.compress(PAGE, mtime=0)
        self.send_response(200)
        for name, value in (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Set-Cookie", "session=abc; Path=/"),
            ("Set-Cookie", "lang=en; Path=/"),
        ):
            self.send_header(name, value)
        self.end_headers()
        for start in range(0, len(entity), 100):
            chunk = entity[start : start + 100]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: object) -> None:
        pass


CRAWL = """
import json, sys
from datetime import datetime, timezone
from pathlib import Path
import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from portal_crawler.crawl.capture import exchange_from_scrapy
from portal_crawler.warc.writer import WarcWriter

seen = {"downloaded": [], "parsed": []}

class WarcCapture:
    def __init__(self, crawler):
        self.writer = WarcWriter(Path(sys.argv[1]), host="test-host")
        crawler.signals.connect(self.downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.writer.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def downloaded(self, response, request):
        seen["downloaded"].append({"url": response.url, "body_length": len(response.body),
            "headers": [[k.decode(), v.decode("latin-1")] for k in response.headers.keys()
                        for v in response.headers.getlist(k)],
            "request_headers": [[k.decode(), v.decode("latin-1")] for k in request.headers.keys()
                                for v in request.headers.getlist(k)]})
        self.writer.write_exchange(exchange_from_scrapy(request, response, datetime.now(timezone.utc)))

class Probe(scrapy.Spider):
    name = "probe"
    start_urls = sys.argv[2:]

    def parse(self, response):
        seen["parsed"].append({"url": response.url, "body_length": len(response.body)})

process = CrawlerProcess(settings={"EXTENSIONS": {"__main__.WarcCapture": 0}, "LOG_LEVEL": "ERROR",
    "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False, "RETRY_ENABLED": False})
process.crawl(Probe)
process.start()
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Iterator[tuple[Path, dict]]:
    """Crawl the stub with Scrapy in a subprocess; the WARC directory and what the signal saw."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PortalStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    warc_dir = tmp_path_factory.mktemp("warc")
    try:
        done = subprocess.run(
            [sys.executable, "-c", CRAWL, str(warc_dir), f"{base}/page", f"{base}/plain"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    yield warc_dir, json.loads(done.stdout.splitlines()[-1])


def captured(warc_dir: Path) -> dict[str, object]:
    [path] = warc_dir.glob("*.warc.gz")
    return {record.url.rsplit("/", 1)[1]: record for _, _, record in iter_records(path)}


def test_signal_sees_the_wire_entity_before_decompression(crawl):
    _, seen = crawl
    downloaded = {d["url"].rsplit("/", 1)[1]: d for d in seen["downloaded"]}
    parsed = {d["url"].rsplit("/", 1)[1]: d for d in seen["parsed"]}
    assert downloaded["page"]["body_length"] == len(gzip.compress(PAGE, mtime=0))
    assert parsed["page"]["body_length"] == len(PAGE)
    names = {name for name, _ in downloaded["page"]["headers"]}
    # Twisted drops Transfer-Encoding; a chunked answer has no Content-Length to keep
    assert "Transfer-Encoding" not in names and "Content-Length" not in names
    assert ["Content-Length", "5"] in downloaded["plain"]["headers"]  # kept when the server sent it
    assert "Host" not in {name for name, _ in downloaded["page"]["request_headers"]}


def test_stored_response_agrees_with_its_entity(crawl):
    warc_dir, _ = crawl
    page = captured(warc_dir)["page"]
    assert (page.status, page.reason) == (200, "OK")
    assert page.entity == gzip.compress(PAGE, mtime=0) and page.decoded_body() == PAGE
    assert page.header("Content-Encoding") == "gzip"
    assert page.header("Content-Length") == str(len(page.entity))
    assert page.header("Transfer-Encoding") is None
    assert [v for k, v in page.headers if k == "Set-Cookie"] == ["session=abc; Path=/", "lang=en; Path=/"]


def test_stored_request_and_plain_response(crawl):
    warc_dir, _ = crawl
    plain = captured(warc_dir)["plain"]
    assert (plain.status, plain.reason, plain.entity) == (200, "OK", b"plain")  # server said "All Good"
    assert plain.header("Content-Length") == "5"
    [path] = warc_dir.glob("*.warc.gz")
    kinds = [r.record_type for r in scan_file(path).records]
    assert kinds == ["warcinfo"] + ["response", "request"] * 2
    with open(path, "rb") as stream:
        requests = [r.http_headers for r in ArchiveIterator(stream) if r.rec_type == "request"]
    assert sorted(f"{r.protocol} {r.statusline}" for r in requests) == ["GET /page HTTP/1.1", "GET /plain HTTP/1.1"]
    assert all(r.get_header("Host").startswith("127.0.0.1:") for r in requests)
    assert all("gzip" in r.get_header("Accept-Encoding") for r in requests)


def test_crawled_file_passes_warcio_check_and_indexes(crawl):
    warc_dir, _ = crawl
    [path] = warc_dir.glob("*.warc.gz")
    checked = subprocess.run([BIN / "warcio", "check", "-v", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.count("digest pass") == 5
    index = subprocess.run([BIN / "cdxj-indexer", str(path)], capture_output=True, text=True, check=True)
    rows = [json.loads(line.split(" ", 2)[2]) for line in index.stdout.splitlines()]
    assert sorted(row["mime"] for row in rows) == ["text/html", "text/plain"]
    assert all(row["status"] == "200" for row in rows)
