"""What a WACZ 1.1.1 package holds, by name: the one place the paths and fields are spelled.

The 1.2.0 draft is not followed: ReplayWeb.page refuses its profile value, and
py-wacz validates 1.1.1 (`wacz_version`, `profile: data-package`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal_crawler.core.errors import Failure, UsageProblem

WACZ_VERSION = "1.1.1"
PROFILE = "data-package"
ARCHIVE_DIR = "archive/"
PLAIN_INDEX = "indexes/index.cdx"
ZIPNUM_INDEX = "indexes/index.cdx.gz"
ZIPNUM_IDX = "indexes/index.idx"
PAGES = "pages/pages.jsonl"
EXTRA_PAGES = "pages/extraPages.jsonl"
DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}
EXTRA_PAGES_HEADER = {
    "format": "json-pages-1.0",
    "id": "extra-pages",
    "title": "Articles and Listing Pages",
    "hasText": True,
}
HASH = "sha256"
ZIPNUM_LINES = 10_000  # an index of more lines is ZipNum-compressed: ReplayWeb.page then reads it by blocks
ZIPNUM_BLOCK = 1024  # lines per compressed block (py-wacz's and ArchiveWeb.page's size)
NOT_MODIFIED = '"status": "304"'  # how cdxj-indexer writes a 304's status into an index line


class WaczProblem(UsageProblem):
    """The package cannot be made as asked (bad slice, unusable output path): exit 2, nothing written."""


class EmptySlice(WaczProblem):
    """The slice holds no captures: there is nothing to package."""


class WaczFailure(Failure):
    """The package could not be completed (a damaged WARC record, a failed write): exit 1, nothing left behind."""


@dataclass(frozen=True)
class SliceSpec:
    """Which part of the archive: articles published in [since, until], or the captures of one run; else all."""

    since: str | None = None
    until: str | None = None
    run: int | None = None

    def __post_init__(self) -> None:
        for option, value in (("--since", self.since), ("--until", self.until)):
            if value is not None:
                _checked_date(option, value)
        if self.since and self.until and self.since > self.until:
            raise WaczProblem(f"--since {self.since} is after --until {self.until}: nothing could be in the slice")

    @property
    def whole(self) -> bool:
        return self.since is None and self.until is None and self.run is None

    def describe(self) -> str:
        """Words for titles and messages: `run 12`, `articles published 2024-01-01 to 2024-03-31`."""
        parts = [f"run {self.run}"] if self.run is not None else []
        if self.since or self.until:
            parts.append(f"articles published {self.since or 'any time'} to {self.until or 'today'}")
        return ", ".join(parts) or "the whole archive"


def _checked_date(option: str, value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise WaczProblem(f"{option} {value!r} is not a date: give it as YYYY-MM-DD, e.g. 2024-03-31") from None
