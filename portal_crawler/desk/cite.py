"""A citation of one version of an article (`show ID --cite`) that points at the exact capture.

It names what a reader needs to find the page again (title, date, original
URL, the archived copy's pywb URL) and what anyone needs to verify the copy
independently of this program: the WARC file, offset, WARC-Record-ID and
WARC-Payload-Digest of the response record the version was captured in, as
the catalogue's `captures` row holds them (`verify` checks that they match the
record).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from portal_crawler.catalogue import Catalogue
from portal_crawler.desk.reading import MissingCapture
from portal_crawler.desk.wayback import capture_moment, replay_url


@dataclass(frozen=True)
class Citation:
    article_id: str
    version: int
    title: str | None
    author: str | None
    published: str | None
    url: str
    captured_at: str
    replay_url: str
    warc_record_id: str
    payload_digest: str | None
    warc_filename: str
    warc_offset: int
    record_type: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """One paragraph to paste, then the fields that pin the capture, one a line."""
        site = urlsplit(self.url).hostname or self.url
        author = f"{self.author}. " if self.author else ""
        line = (
            f'{author}"{self.title or "(no title)"}." {site}, published {self.published or "(date unknown)"}.'
            f" {self.url} (captured {self.captured_at}; archived copy: {self.replay_url})"
        )
        return "\n".join(
            [
                line,
                "",
                f"Title:               {self.title or '(no title)'}",
                f"Published:           {self.published or 'unknown'}",
                f"Original URL:        {self.url}",
                f"Captured:            {self.captured_at} (article {self.article_id}, version {self.version})",
                f"Replay:              {self.replay_url}",
                f"WARC-Record-ID:      {self.warc_record_id}",
                f"WARC-Payload-Digest: {self.payload_digest or '(none recorded)'}",
                f"WARC file:           {self.warc_filename} at offset {self.warc_offset} ({self.record_type} record)",
            ]
        )


def version_capture(catalogue: Catalogue, article: dict[str, Any]) -> dict[str, Any]:
    """The captures row of the capture this version was first seen in (articles or versions `capture_id`)."""
    capture_id = article.get("capture_id")
    capture = catalogue.capture_rows([capture_id]).get(capture_id) if capture_id else None
    if capture is None:
        raise MissingCapture(f"article {article['id']} version {article.get('version')}: its capture is not catalogued")
    return capture


def replay_link(catalogue: Catalogue, article: dict[str, Any], replay_base: str) -> str | None:
    """The replay URL of what `show` shows, or None when its capture is not catalogued."""
    try:
        return replay_url(replay_base, version_capture(catalogue, article))
    except MissingCapture:
        return None


def replay_links(catalogue: Catalogue, article_ids: list[str], replay_base: str) -> dict[str, str]:
    """The replay URL of each article's latest version (search hits), in two queries whatever their number."""
    latest = catalogue.article_captures(article_ids)
    captures = catalogue.capture_rows(list(latest.values()))
    return {a: replay_url(replay_base, captures[c]) for a, c in latest.items() if c in captures}


def cite(catalogue: Catalogue, article: dict[str, Any], replay_base: str) -> Citation:
    """The citation of `article` (a row from reading.article_version: the latest or an older version)."""
    capture = version_capture(catalogue, article)
    return Citation(
        article_id=article["id"],
        version=int(article["version"]),
        title=article.get("title"),
        author=article.get("author"),
        published=article.get("published"),
        url=article["url"],
        captured_at=capture_moment(capture),
        replay_url=replay_url(replay_base, capture),
        warc_record_id=capture["warc_record_id"],
        payload_digest=capture["payload_digest"],
        warc_filename=capture["warc_filename"],
        warc_offset=int(capture["warc_offset"]),
        record_type=capture["record_type"],
    )
