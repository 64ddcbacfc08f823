"""What the probe reports per page (shared by the HTML and the API readers and the text renderer)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FieldReport:
    """One field: its value on one line (the first paragraph, caption or image), its source, how many."""

    value: str | None
    source: str  # "selector", the fallback that gave it ("trafilatura", "time", "listing", ...), or "none"
    count: int | None = None  # for paragraphs, captions, images


@dataclass
class ListingReport:
    entries: int  # distinct articles the page lists
    dates: int  # of which the listing prints a date the profile reads
    unknown_links: list[str] = field(default_factory=list)  # entry links that match no article pattern
    articles: list[str] = field(default_factory=list)  # the entries probed after it


@dataclass
class PageReport:
    url: str
    kind: str  # what the profile's URL rules say it is: listing, article or other
    verdict: str = "failed"
    status: int | None = None
    redirected_to: str | None = None
    read_as: str | None = None  # listing or article (an "other" URL is read as what its page looks like)
    wall: str | None = None
    template: str | None = None  # the listing or article template that matched; None: none did (fallback)
    revision: str | None = None  # Profile.revision() of the article template ("fallback" without one)
    found_on: str | None = None  # the listing an article was taken from
    fields: dict[str, FieldReport] | None = None
    listing: ListingReport | None = None
    problems: list[str] = field(default_factory=list)
    outline: list[str] = field(default_factory=list)  # an API answer's leaves: `path = value`

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
