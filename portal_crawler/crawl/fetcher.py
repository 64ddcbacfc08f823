"""Polite one-at-a-time fetching for `probe`: the crawl's User-Agent, robots.txt, delay, size cap, timeout.

The probe fetches a handful of pages and must never look different from the
crawl to the portal, so it takes its identity and manners from the project's
settings (`USER_AGENT`, `DEFAULT_REQUEST_HEADERS`, `DOWNLOAD_DELAY`,
`DOWNLOAD_TIMEOUT`, `DOWNLOAD_MAXSIZE`) and reads robots.txt with Scrapy's own
parser (Protego). It is written on urllib, not on Scrapy's downloader: a few
sequential requests need no reactor, and Twisted's reactor cannot be started
twice in one process (tests and the CLI call the probe many times). Redirects
are followed here, not by urllib, so every hop is held to the profile's hosts
and to robots.txt, and waits its turn like any other request.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from scrapy.robotstxt import ProtegoRobotParser
from scrapy.settings import Settings

from portal_crawler.warc.codings import EntityTooLarge, decode_entity

ACCEPT_ENCODING = "gzip, deflate"  # the codings decode_entity undoes without optional packages
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Politeness:
    """How the probe behaves towards the portal (the crawl's own settings)."""

    user_agent: str
    headers: dict[str, str]
    delay: float  # seconds between two requests, robots.txt included
    timeout: float
    max_bytes: int

    @classmethod
    def from_settings(cls, *, fast: bool = False) -> Politeness:
        """The project's settings (settings.py over Scrapy's defaults); `fast` lifts the delay (replica only)."""
        settings = Settings()
        settings.setmodule("portal_crawler.settings", priority="project")
        return cls(
            user_agent=settings.get("USER_AGENT"),
            headers={str(k): str(v) for k, v in settings.getdict("DEFAULT_REQUEST_HEADERS").items()},
            delay=0.0 if fast else settings.getfloat("DOWNLOAD_DELAY"),
            timeout=settings.getfloat("DOWNLOAD_TIMEOUT"),
            max_bytes=settings.getint("DOWNLOAD_MAXSIZE"),
        )


@dataclass(frozen=True)
class Fetched:
    """One answer: its final URL, status, headers (repeats kept) and body with its Content-Encoding undone."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    redirected_from: str | None = None


class Unfetchable(Exception):
    """The page could not be fetched at all (connection refused, DNS, timeout, a bad body); one line."""


class Disallowed(Exception):
    """robots.txt (or the profile's hosts) forbids this URL: it is not requested."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand every 3xx back to the fetcher, which follows it itself (scope and robots.txt per hop)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class PoliteFetcher:
    """Fetches one URL at a time, `delay` seconds apart, asking each host's robots.txt first."""

    def __init__(self, politeness: Politeness, in_scope: Callable[[str], bool]) -> None:
        self.politeness = politeness
        self.in_scope = in_scope
        self.requests = 0
        self._robots: dict[str, ProtegoRobotParser | Unfetchable | None] = {}  # per scheme://host:port
        self._last: float | None = None
        self._opener = urllib.request.build_opener(_NoRedirects())

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        """The page at `url` (with these extra request headers), redirects followed within scope.

        Raises Disallowed or Unfetchable.
        """
        first = url
        for _ in range(MAX_REDIRECTS + 1):
            self._check(url)
            answer = self._get(url, headers or {})
            location = dict((k.lower(), v) for k, v in answer.headers).get("location")
            if answer.status not in REDIRECTS or not location:
                return answer if url == first else replace(answer, redirected_from=first)
            target = urljoin(url, location.strip())
            if not self.in_scope(target):
                raise Disallowed(f"redirected to {target}, off the profile's hosts (the crawl does not follow it)")
            url = target
        raise Unfetchable(f"more than {MAX_REDIRECTS} redirects")

    def _check(self, url: str) -> None:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._robots:
            try:
                self._robots[key] = self._robots_txt(key + "/robots.txt")
            except Unfetchable as failure:  # the host is unreachable: its other pages are not tried again
                self._robots[key] = failure
        parser = self._robots[key]
        if isinstance(parser, Unfetchable):
            raise Unfetchable(str(parser))
        if parser is not None and not parser.allowed(url, self.politeness.user_agent):
            raise Disallowed("disallowed by robots.txt (not fetched)")

    def _robots_txt(self, url: str) -> ProtegoRobotParser | None:
        """The host's rules; no rules (everything allowed) when it has no robots.txt, as Scrapy does."""
        answer = self._get(url)
        return ProtegoRobotParser(answer.body, None) if 200 <= answer.status < 300 else None

    def _get(self, url: str, extra: dict[str, str] | None = None) -> Fetched:
        self._wait()
        headers = {**self.politeness.headers, **(extra or {}), "User-Agent": self.politeness.user_agent}
        request = urllib.request.Request(url, headers={**headers, "Accept-Encoding": ACCEPT_ENCODING})
        try:
            with self._opener.open(request, timeout=self.politeness.timeout) as response:
                return self._answer(url, response.status, list(response.headers.items()), response)
        except urllib.error.HTTPError as error:  # 4xx, 5xx and unfollowed 3xx: answers all the same
            with error:
                return self._answer(url, error.code, list(error.headers.items()), error)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise Unfetchable(describe(error, self.politeness.timeout)) from None
        finally:
            self._last = time.monotonic()
            self.requests += 1

    def _answer(self, url: str, status: int, headers: list[tuple[str, str]], stream: object) -> Fetched:
        limit = self.politeness.max_bytes
        wire = stream.read(limit + 1)  # type: ignore[attr-defined]  # an HTTPResponse or an HTTPError
        if len(wire) > limit:
            raise Unfetchable(f"the answer is larger than DOWNLOAD_MAXSIZE ({limit} bytes): refused, as the crawl does")
        coding = next((v for k, v in headers if k.lower() == "content-encoding"), None)
        try:
            body = decode_entity(wire, coding, limit)
        except EntityTooLarge as error:
            raise Unfetchable(str(error)) from None
        except ValueError as error:
            raise Unfetchable(f"cannot read the body: {error}") from None
        return Fetched(url, status, headers, body)

    def _wait(self) -> None:
        if self._last is not None:
            time.sleep(max(0.0, self._last + self.politeness.delay - time.monotonic()))


def describe(error: BaseException, timeout: float) -> str:
    """A network failure in a few words: connection refused, host not found, no answer in time."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"host not found ({reason.strerror})"
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
