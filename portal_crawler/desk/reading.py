"""Reading one article back: its catalogue row or version, and its page bytes from WARC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from portal_crawler.catalogue import Catalogue
from portal_crawler.core.errors import Failure, UsageProblem
from portal_crawler.warc.reader import ArchivedResponse, read_record
from portal_crawler.warc.revisit import resolve_revisit


class NotFound(UsageProblem):
    """No such article or version: the ID or --version asked for is not in the catalogue (bad input, exit 2)."""


class MissingCapture(Failure):
    """The catalogue names an article but not the capture it should point at: damage for `verify` to report."""


class UnreadablePage(Failure):
    """The archived page cannot be decoded: a broken or unknown Content-Encoding, or past the size limit."""


def article_version(catalogue: Catalogue, article_id: str, version: int | None = None) -> dict[str, Any]:
    """The article as catalogued (latest), or one of its versions, with JSON columns decoded."""
    row = catalogue.article(article_id)
    if row is None:
        raise NotFound(f"no article {article_id!r} in the catalogue (try 'portal-crawler search')")
    if version is not None and version != row["version"]:
        versions = {v["version"]: v for v in catalogue.versions(article_id)}
        if version not in versions:
            raise NotFound(f"article {article_id} has versions 1 to {row['version']}, not {version}")
        row = {**row, **versions[version]}
        row["id"] = article_id
    for column in ("captions", "images", "problems"):
        row[column] = json.loads(row[column]) if row.get(column) else []
    return row


def page_record(catalogue: Catalogue, warc_dir: Path, capture_id: int) -> ArchivedResponse:
    """The response record a capture points at; a revisit is followed to its original."""
    pointer = catalogue.capture(capture_id)
    if pointer is None:
        raise MissingCapture(f"capture {capture_id} is not in the catalogue")
    record = read_record(warc_dir / pointer.warc_filename, pointer.warc_offset)

    def locate(record_id: str) -> tuple[Path, int] | None:
        original = catalogue.capture_by_record_id(record_id)
        return None if original is None else (warc_dir / original.warc_filename, original.warc_offset)

    resolved = resolve_revisit(record, locate)
    if resolved is None:
        raise MissingCapture(f"revisit {record.record_id} refers to {record.refers_to}, which is not catalogued")
    return resolved


def page_html(catalogue: Catalogue, warc_dir: Path, article: dict[str, Any], latest: bool = True) -> bytes:
    """The archived page as served, decoded per its Content-Encoding, never past DECODE_LIMIT bytes.

    For the latest version: the most recent full capture of the page (a later
    fetch with the same article content, e.g. another "Other news" list, counts);
    for an older version: the capture that version was first seen in.
    """
    capture_id = catalogue.latest_page_capture(article["id"]) if latest else None
    capture_id = capture_id or article.get("capture_id")
    if not capture_id:
        raise MissingCapture(f"article {article['id']} has no capture to read")
    try:
        return page_record(catalogue, warc_dir, capture_id).decoded_body()
    except ValueError as error:  # a broken coding, or EntityTooLarge: a bomb is refused, never inflated
        raise UnreadablePage(f"article {article['id']}: capture {capture_id} cannot be decoded: {error}") from None


def article_text(article: dict[str, Any]) -> str:
    """The article as plain text; its replay URL too when `article["replay_url"]` holds one."""
    replay = [f"Replay:    {article['replay_url']}"] if article.get("replay_url") else []
    lines = [
        article["title"] or "(no title)",
        "",
        f"Published: {article.get('published') or 'unknown'}",
        f"Author:    {article.get('author') or 'unknown'}",
        f"Source:    {article['url']}",
        f"Captured:  {article.get('captured_at') or article.get('last_seen')}",
        *replay,
        f"Version:   {article.get('version')}   Quality: {article.get('quality')}",
        "",
    ]
    lines += [p + "\n" for p in (article.get("body") or "").split("\n\n") if p]
    if article["captions"]:
        lines += ["Captions:"] + [f"  - {c}" for c in article["captions"]]
    return "\n".join(lines)
