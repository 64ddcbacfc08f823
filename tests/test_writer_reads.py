"""Article pages the archive's writer reads: left undecoded by the crawl, their walls counted from its answers."""

from __future__ import annotations

import gzip
import zlib

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from portal_crawler.middlewares import (
    READ_BY_WRITER,
    WriterReadsCompressionMiddleware,
    WriterReadsMetaRefreshMiddleware,
)
from portal_crawler.settings import DOWNLOADER_MIDDLEWARES
from portal_crawler.warc.codings import decode_head

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


def _refresh_middlewares() -> tuple[WriterReadsMetaRefreshMiddleware, MetaRefreshMiddleware]:
    crawler = get_crawler()
    return WriterReadsMetaRefreshMiddleware.from_crawler(crawler), MetaRefreshMiddleware.from_crawler(crawler)


REFRESH = '<meta http-equiv="refresh" content="0; url=/news-events/b-t2.html">'
VIETNAMESE = "Bộ Công an " * 300  # 3,300 characters, 4,200 bytes in UTF-8
PAGES = {
    "a refresh in the head": f"<html><head>{REFRESH}</head><body><p>moved</p></body></html>",
    "a refresh after 3,300 Vietnamese characters": f"<html><head><title>{VIETNAMESE}</title>{REFRESH}</head>",
    "a refresh past the first 4,096 characters": f"<html><head><title>{'x' * 5000}</title>{REFRESH}</head>",
    "a refresh in noscript": f"<html><head><noscript>{REFRESH}</noscript></head></html>",
    "a refresh too slow to follow": '<html><head><meta http-equiv="refresh" content="600; url=/b-t2.html"></head>',
    "no refresh": "<html><head><title>An article</title></head><body><p>text</p></body></html>",
}
CODINGS = {  # the Content-Encoding header, and how the body is encoded
    "gzip": ("gzip", gzip.compress),
    "deflate": ("deflate", zlib.compress),
    "raw deflate": ("deflate", lambda data: zlib.compress(data)[2:-4]),
    "identity": (None, lambda data: data),
    "gzip, gzip": ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
}


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("page", PAGES)
def test_a_page_left_encoded_is_refreshed_exactly_as_scrapy_refreshes_it_decoded(page: str, coding: str) -> None:
    ours, scrapys = _refresh_middlewares()
    body = PAGES[page].encode("utf-8")
    request = Request("http://127.0.0.1/news-events/a-t1.html", meta={READ_BY_WRITER: True})
    header, encode = CODINGS[coding]
    headers = {"Content-Type": "text/html; charset=utf-8", **({"Content-Encoding": header} if header else {})}
    encoded = HtmlResponse(request.url, headers=headers, body=encode(body), request=request)
    decoded = HtmlResponse(request.url, headers={"Content-Type": "text/html; charset=utf-8"}, body=body)
    theirs = scrapys.process_response(Request(request.url), decoded)
    answer = ours.process_response(request, encoded)
    if isinstance(theirs, Request):
        assert isinstance(answer, Request) and answer.url == theirs.url == "http://127.0.0.1/news-events/b-t2.html"
    else:
        assert answer is encoded  # not followed, and the page is still the one that came, encoded
    assert (page == "a refresh in the head" or "Vietnamese" in page) == isinstance(theirs, Request)


def test_meta_refresh_is_scrapys_but_for_pages_the_writer_reads() -> None:
    assert DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert DOWNLOADER_MIDDLEWARES["portal_crawler.middlewares.WriterReadsMetaRefreshMiddleware"] == 580
    ours, _ = _refresh_middlewares()
    request = Request("http://127.0.0.1/a-t1.html")  # not marked: Scrapy's own reading of a decoded page
    page = HtmlResponse(
        request.url, headers={"Content-Type": "text/html"}, body=PAGES["a refresh in the head"].encode()
    )
    assert isinstance(ours.process_response(request, page), Request)


@pytest.mark.parametrize("coding", CODINGS)
def test_decode_head_inflates_no_further_than_asked(coding: str) -> None:
    body = bytes(range(256)) * 400
    header, encode = CODINGS[coding]
    head = decode_head(encode(body), header, 1000)
    assert head == body[:1000]


def test_decode_head_of_a_corrupt_or_unknown_coding_is_empty() -> None:
    assert decode_head(b"not gzip at all", "gzip", 100) == b""
    assert decode_head(gzip.compress(b"x" * 100), "compress", 100) == b""
