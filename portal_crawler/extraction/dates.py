"""Dates that cannot be wrong silently: every fallback date is held to what else is known.

A date from a generic source (JSON-LD, `<time>`, htmldate, ...) is a guess: on
the portal's pages the nearest other dates are those of the "Other news" list,
and a guess that lands there is wrong in a way nobody would notice. Two things
the crawl knows independently of the page's markup are the references:

- the date the listing page printed beside the entry (`listing_date`);
- for 10-digit article IDs, the publication time the ID encodes (Unix seconds).
  The day is taken in the profile's zone (`[dates] zone`; Asia/Ho_Chi_Minh for
  the portal, UTC+7). The one seed with such an ID, 1728975600 (2024-10-15),
  is 07:00 UTC, 14:00 in Hanoi: the same day in both zones, so the seed cannot
  tell them apart. The portal's CMS prints Hanoi dates, and a story published
  between midnight and 07:00 Hanoi time would read a day early in UTC, so the
  profile says Hanoi.

A fallback date that disagrees with a reference becomes a problem and the
reference is kept (source "listing" or "id-time"); a selector's date that
disagrees is kept (it is the profile's exact reading) but still flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

ID_TIME = re.compile(r"\d{10}")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Known:
    """What the crawl knows of an article's date besides its page."""

    listing: str | None = None  # ISO date the listing printed for the entry
    id_time: str | None = None  # ISO date the 10-digit ID encodes

    def reference(self) -> tuple[str, str] | None:
        """(date, source) of the reference to hold a guess to: the listing's first, then the ID's."""
        if self.listing:
            return self.listing, "listing"
        if self.id_time:
            return self.id_time, "id-time"
        return None

    def conflicts(self) -> list[str]:
        """The listing and the ID disagreeing with each other is itself worth a problem."""
        if self.listing and self.id_time and self.listing != self.id_time:
            return [f"published: the listing's {self.listing} disagrees with the ID's {self.id_time}"]
        return []


def id_date(article_id: str | None, zone: str) -> str | None:
    """The day a 10-digit article ID (Unix seconds) was published, in the portal's zone."""
    if not article_id or not ID_TIME.fullmatch(article_id):
        return None
    return datetime.fromtimestamp(int(article_id), ZoneInfo(zone)).date().isoformat()


def iso_date(value: str | None, zone: str, formats: Iterable[str] = ()) -> str | None:
    """An ISO date from an ISO date or timestamp (an aware one read in `zone`), or one of `formats`."""
    text = " ".join((value or "").split())
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        stamp = None
    if stamp is not None:
        return (stamp.astimezone(ZoneInfo(zone)) if stamp.tzinfo else stamp).date().isoformat()
    found = printed_date(text, tuple(formats))
    if found:
        return found
    match = ISO_DAY.match(text)
    return _valid(match.group(0)) if match else None


@lru_cache(maxsize=4096)
def printed_date(text: str, formats: tuple[str, ...]) -> str | None:
    """The ISO date of `text` by the first of `formats` that parses it, or None.

    Cached: a portal prints the same few hundred dates on thousands of pages, and
    `strptime` costs about 10 µs a try.
    """
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _valid(text: str) -> str | None:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def printed(day: str, formats: Iterable[str]) -> list[str]:
    """The ways the profile's formats print `day` (to confirm a guess against the page's own text)."""
    value = date.fromisoformat(day)
    return [value.strftime(fmt) for fmt in formats]


def settle(found: tuple[str, str] | None, known: Known) -> tuple[str | None, str, list[str]]:
    """(date, source, problems) from a date found on the page (with its source) and the references."""
    problems = known.conflicts()
    reference = known.reference()
    if found is None:
        return (reference[0], reference[1], problems) if reference else (None, "none", problems)
    value, source = found
    if reference is None or reference[0] == value:
        return value, source, problems
    named = "the listing's" if reference[1] == "listing" else "the ID's"
    problems.append(f"published {value} from {source} disagrees with {named} {reference[0]}")
    if source == "selector":
        return value, source, problems
    return reference[0], reference[1], problems
