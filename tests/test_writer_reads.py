"""Article pages the archive's writer reads: left undecoded by the crawl, their walls counted from its answers."""

from __future__ import annotations

import gzip

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from portal_crawler.middlewares import READ_BY_WRITER, WriterReadsCompressionMiddleware
from portal_crawler.settings import DOWNLOADER_MIDDLEWARES

PAGE = b"<html><body><p>An article</p></body></html>"


def _middleware() -> WriterReadsCompressionMiddleware:
    return WriterReadsCompressionMiddleware.from_crawler(get_crawler())


def _answer(status: int, read_by_writer: bool) -> tuple[Request, HtmlResponse]:
    request = Request("http://127.0.0.1/news-events/a-t1.html", meta={READ_BY_WRITER: read_by_writer})
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
    return request, HtmlResponse(request.url, status=status, headers=headers, body=gzip.compress(PAGE), request=request)


def test_it_replaces_scrapys_decoding_in_the_settings() -> None:
    assert DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware"] is None
    assert DOWNLOADER_MIDDLEWARES["portal_crawler.middlewares.WriterReadsCompressionMiddleware"] == 590


def test_a_page_the_writer_reads_stays_as_it_came() -> None:
    request, response = _answer(200, read_by_writer=True)
    kept = _middleware().process_response(request, response)
    assert kept is response
    assert gzip.decompress(kept.body) == PAGE


@pytest.mark.parametrize(("status", "read_by_writer"), [(200, False), (404, True), (403, True)])
def test_every_other_answer_is_decoded_as_scrapy_does(status: int, read_by_writer: bool) -> None:
    request, response = _answer(status, read_by_writer)
    decoded = _middleware().process_response(request, response)
    assert decoded.body == PAGE
    assert b"Content-Encoding" not in decoded.headers


def test_it_still_asks_for_compressed_answers() -> None:
    request = Request("http://127.0.0.1/news-events/a-t1.html", meta={READ_BY_WRITER: True})
    _middleware().process_request(request)
    assert b"gzip" in request.headers.get("Accept-Encoding", b"")
