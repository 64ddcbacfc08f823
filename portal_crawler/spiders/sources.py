"""Where the spider reads the portal from: its HTML pages, its JSON API, or whichever the site serves.

`auto` (the default) walks the JSON API when the archive already holds an
answer of its first listing page (an earlier run walked it), or as soon as a
start page turns out to be an app shell (the profile's `api.shell`); else
the HTML pages. `html` and `api` choose.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from portal_crawler.extraction.api_profile import ApiSource
from portal_crawler.extraction.urls import origin

SOURCES = ("auto", "html", "api")


def api_origin(source: ApiSource, start_urls: list[str], hosts: tuple[str, ...], explicit: str | None) -> str:
    """Where the API is asked: `--api-base`, else a start URL's host when it is not the profile's, else the profile's.

    A replica or a mirror serves pages and API on one host, as the HTML
    sources already follow the start URL to it.
    """
    if explicit:
        return origin(explicit)
    for url in start_urls:
        netloc = urlsplit(url).netloc.lower()
        if netloc and netloc not in hosts:
            return origin(url)
    return source.base
