"""An article's versions (`portal-crawler history`) and the diff of two of them (`portal-crawler diff`).

Every version's fields are in the catalogue's `versions` table; each version
names the capture it was first seen in, whose WARC-Date and URL make its
replay link (desk.wayback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_crawler.catalogue import Catalogue
from portal_crawler.desk.diff import VersionDiff, compare
from portal_crawler.desk.reading import NotFound
from portal_crawler.desk.wayback import replay_url, timemap_url


@dataclass(frozen=True)
class Entry:
    """One version: when it was captured, where pywb replays it, and what changed from the version before."""

    version: int
    captured_at: str | None
    capture_id: int | None
    replay_url: str | None
    changes: VersionDiff


@dataclass(frozen=True)
class History:
    article_id: str
    title: str | None
    url: str
    timemap_url: str
    entries: tuple[Entry, ...]

    def as_dict(self) -> dict[str, Any]:
        """For --json: each version with its changes (summary and every change, as `diff --json` gives them)."""
        entries = [
            {
                "version": e.version,
                "captured_at": e.captured_at,
                "capture_id": e.capture_id,
                "replay_url": e.replay_url,
                "summary": e.changes.summary(),
                "changes": e.changes.as_dict()["changes"],
            }
            for e in self.entries
        ]
        head = {"article_id": self.article_id, "title": self.title, "url": self.url, "timemap_url": self.timemap_url}
        return {**head, "versions": entries}


def version_rows(catalogue: Catalogue, article_id: str) -> list[dict[str, Any]]:
    """The article's version rows, oldest first; NotFound (exit 2) when the catalogue has no such article."""
    rows = catalogue.versions(article_id)
    if not rows:
        raise NotFound(f"no article {article_id!r} in the catalogue (try 'portal-crawler search')")
    return rows


def history(catalogue: Catalogue, article_id: str, replay_base: str) -> History:
    rows = version_rows(catalogue, article_id)
    captures = catalogue.capture_rows([r["capture_id"] for r in rows])
    entries, previous = [], None
    for row in rows:
        capture = captures.get(row["capture_id"])
        link = replay_url(replay_base, capture) if capture else None
        changes = compare(article_id, previous, row)
        entries.append(Entry(row["version"], row["captured_at"], row["capture_id"], link, changes))
        previous = row
    latest = rows[-1]
    latest_capture = captures.get(latest["capture_id"])
    url = latest_capture["url"] if latest_capture else latest["url"]
    return History(article_id, latest["title"], url, timemap_url(replay_base, url), tuple(entries))


def render(found: History) -> str:
    count = len(found.entries)
    lines = [
        f"{found.article_id}  {found.title or '(no title)'}  ({count} version{'s' * (count != 1)})",
        f"TimeMap: {found.timemap_url}",
        "",
    ]
    for entry in found.entries:
        lines.append(f"v{entry.version}  {entry.captured_at or 'capture time unknown'}  {entry.changes.summary()}")
        lines.append(f"    replay: {entry.replay_url or '(its capture is not in the catalogue)'}")
    return "\n".join(lines)


def pick(rows: list[dict[str, Any]], article_id: str, old: int | None, new: int | None) -> tuple[dict, dict] | None:
    """Versions `old` and `new` (default: the latest two; `old` alone: against the latest); None with one version."""
    by_number = {row["version"]: row for row in rows}
    for asked in (old, new):
        if asked is not None and asked not in by_number:
            raise NotFound(f"article {article_id} has versions 1 to {max(by_number)}, not {asked}")
    latest = rows[-1]["version"]
    if old is None:
        return None if len(rows) < 2 else (rows[-2], rows[-1])
    return by_number[old], by_number[new if new is not None else latest]


def heading(article_id: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    return (
        f"{article_id}: version {old['version']} ({old.get('captured_at') or 'time unknown'})"
        f" -> version {new['version']} ({new.get('captured_at') or 'time unknown'})"
    )
