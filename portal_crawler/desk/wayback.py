"""Replay links: where `portal-crawler replay` (pywb) serves a capture, and an article's Memento TimeMap.

pywb's URL scheme, as its frontend routes it (pywb/apps/frontendapp.py): one
capture at `<base>/<collection>/<14-digit timestamp>/<original URL>` (the
timestamp is the record's WARC-Date to the second, what the CDXJ index keys
on), and every capture of a URL as a Memento TimeMap in link format at
`<base>/<collection>/timemap/link/<original URL>`.
"""

from __future__ import annotations

import re
from typing import Any

from portal_crawler.upkeep.replay import COLLECTION

DEFAULT_REPLAY_BASE = "http://127.0.0.1:8090"  # `portal-crawler replay`'s default address
_DIGITS = re.compile(r"\d")


def stamp14(moment: str) -> str:
    """`2026-12-01T09:26:39.123456Z` -> `20261201092639`: the wayback timestamp of a UTC time."""
    digits = "".join(_DIGITS.findall(moment))[:14]
    if len(digits) != 14:
        raise ValueError(f"{moment!r} is not a UTC time to the second")
    return digits


def capture_moment(capture: dict[str, Any]) -> str:
    """The time pywb indexed the capture under: its WARC-Date (the fetch time on rows that lack it)."""
    return str(capture.get("warc_date") or capture["fetched_at"])


def replay_url(base: str, capture: dict[str, Any]) -> str:
    """The capture as pywb replays it: `<base>/mps/<14-digit WARC-Date>/<URL fetched>`."""
    return f"{base.rstrip('/')}/{COLLECTION}/{stamp14(capture_moment(capture))}/{capture['url']}"


def timemap_url(base: str, url: str) -> str:
    """Every capture of `url` as a Memento TimeMap (RFC 7089, link format)."""
    return f"{base.rstrip('/')}/{COLLECTION}/timemap/link/{url}"
