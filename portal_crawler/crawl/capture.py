"""Scrapy request/response -> Exchange: what crossed the wire, ready for the WARC writer.

Meant for a handler of Scrapy's `response_downloaded` signal, which fires before the
downloader middlewares decompress, so `response.body` is still the wire entity.
Header names and values are kept as their wire bytes decoded as latin-1.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Headers, Response

from portal_crawler.warc.records import Exchange
from portal_crawler.warc.writer import reason_phrase


def exchange_from_scrapy(request: Request, response: Response, fetched_at: datetime) -> Exchange:
    """The exchange for `response` (from `response_downloaded`) fetched at `fetched_at` (UTC)."""
    return Exchange(
        url=response.url,
        method=request.method,
        request_headers=request_headers(request, response.url),
        request_body=request.body,
        status=response.status,
        reason=reason_phrase(response.status),
        response_headers=header_list(response.headers),
        body=response.body,
        fetched_at=fetched_at,
        ip_address=str(response.ip_address) if response.ip_address else None,
        protocol=response.protocol or "HTTP/1.1",
    )


def header_list(headers: Headers) -> list[tuple[str, str]]:
    """Every (name, value), repeated headers kept (`getlist`, never `headers[k]`)."""
    return [
        (_text(name), _text(value))
        for name, values in dict.items(headers)  # the stored lists: every value of a repeated header
        for value in values
    ]


def request_headers(request: Request, url: str) -> list[tuple[str, str]]:
    """The request headers as sent: Host first (Twisted adds it), Content-Length for a body."""
    sent = header_list(request.headers)
    names = {name.lower() for name, _ in sent}
    if "host" not in names:
        sent.insert(0, ("Host", _host(url)))
    if request.body and "content-length" not in names:
        sent.append(("Content-Length", str(len(request.body))))
    return sent


def _host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


def _text(raw: bytes | str) -> str:
    return raw.decode("latin-1") if isinstance(raw, bytes) else raw
