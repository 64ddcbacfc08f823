"""HTTP responses as the replica builds them, and the rules it answers by:
gzip only when ``Accept-Encoding`` allows it, ``304`` for a matching
``If-None-Match`` (or, without one, ``If-Modified-Since``).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus

HTML = "text/html; charset=utf-8"


@dataclass
class Response:
    """Status, body bytes and headers of one answer (body before any gzip)."""

    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)
    compressible: bool = True
    cookies: bool = False  # listing pages set a session and a language cookie
    modified: float | None = None  # Unix time of Last-Modified
    server: str | None = None  # a ``Server`` header other than the replica's (a CDN's challenge page)
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"

    @property
    def etag(self) -> str | None:
        return next((v for k, v in self.headers if k == "ETag"), None)

    def gzipped(self) -> bytes:
        """The body gzip-compressed (deterministic: no file name, mtime 0)."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def validated(response: Response, modified: float) -> Response:
    """Give a response its ``ETag`` (hash of the body) and ``Last-Modified``."""
    digest = hashlib.sha1(response.body).hexdigest()[:20]
    response.headers += [("ETag", f'"{digest}"'), ("Last-Modified", formatdate(modified, usegmt=True))]
    response.modified = modified
    return response


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip;q=0`` does not)."""
    for item in (accept_encoding or "").lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return not params.strip() or float(quality) > 0
            except ValueError:
                return True
    return False


def not_modified(response: Response, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """Whether a conditional GET can be answered ``304 Not Modified``."""
    etag = response.etag
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag is not None and ("*" in tags or etag in tags)
    if if_modified_since and response.modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return response.modified <= since
    return False
