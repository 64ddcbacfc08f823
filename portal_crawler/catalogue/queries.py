"""The catalogue's reads, shared by the crawl, the writer, the desk and upkeep.

`CatalogueReads` holds them as methods over one connection; `Catalogue`
(store.py) adds the writes. The reads need only the 0.1.0 columns, so an
archive on a read-only mount that no writer could upgrade still reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_crawler.catalogue.connection import CatalogueError
from portal_crawler.core.errors import UsageProblem
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.warc.records import PriorCapture

_POINTER_SELECT = (
    "SELECT id, url, warc_filename, warc_offset, warc_length, warc_record_id, record_type,"
    " payload_digest, article_id FROM captures"
)
DANGLING_ARTICLES = (
    "SELECT id, capture_id FROM articles WHERE capture_id IS NOT NULL AND capture_id NOT IN (SELECT id FROM captures)"
)
DANGLING_VERSIONS = (
    "SELECT article_id, version, capture_id FROM versions WHERE capture_id IS NOT NULL"
    " AND capture_id NOT IN (SELECT id FROM captures)"
)
RUN_ARTICLES = (  # what a run catalogued, from the catalogue itself: version 1 is new, a later one updated
    "SELECT coalesce(sum(v.version = 1), 0), coalesce(sum(v.version > 1), 0)"
    " FROM versions v JOIN captures c ON c.id = v.capture_id WHERE c.run_id = ?"
)


@dataclass(frozen=True)
class CapturePointer:
    """Where one catalogued capture lives in the WARC files."""

    id: int
    url: str
    warc_filename: str
    warc_offset: int
    warc_length: int
    warc_record_id: str
    record_type: str
    payload_digest: str | None
    article_id: str | None


def dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def capture_rows(conn: sqlite3.Connection, capture_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Whole `captures` rows by id (WARC-Date, record ID, payload digest...): replay links and citations.

    A plain function over a connection too, so Datasette's own connections (the reading room) read it.
    """
    wanted = sorted({i for i in capture_ids if i is not None})
    if not wanted:
        return {}
    cursor = conn.execute(f"SELECT * FROM captures WHERE id IN ({_marks(wanted)})", wanted)
    return {row["id"]: row for row in dicts(cursor)}


class CatalogueReads:
    """Reads over `self.conn`; the path names the file in messages."""

    conn: sqlite3.Connection
    path: Path

    # -- runs ---------------------------------------------------------------
    def run(self, run_id: int) -> dict[str, Any] | None:
        """One row of `runs` as a dict (None when there is no such run)."""
        found = dicts(self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)))
        return found[0] if found else None

    def previous_walk_complete(self, run_id: int) -> bool:
        """Whether the run before `run_id` walked the listings to a clean end (no crash, no failures)."""
        row = self.conn.execute(
            "SELECT walk_complete FROM runs WHERE id < ? ORDER BY id DESC LIMIT 1", (run_id,)
        ).fetchone()
        return bool(row and row[0])

    def run_articles(self, run_id: int) -> tuple[int, int]:
        """(new, updated) articles the run catalogued, counted from its versions."""
        new, updated = self.conn.execute(RUN_ARTICLES, (run_id,)).fetchone()
        return int(new), int(updated)

    def run_exists(self, run_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    # -- captures -----------------------------------------------------------
    def prior_capture(self, url: str) -> PriorCapture | None:
        """The last response capture of `url` (the record a revisit would refer to)."""
        row = self.conn.execute(
            "SELECT warc_record_id, url, warc_date, payload_digest, record_type, refers_to FROM captures"
            " WHERE url = ? AND status BETWEEN 200 AND 299 ORDER BY id DESC LIMIT 1",
            (url,),
        ).fetchone()
        if row is None or not row[3]:
            return None
        record_id, url, warc_date = row[0], row[1], row[2]
        if row[4] == "revisit" and row[5]:
            original = self.conn.execute(
                "SELECT warc_record_id, warc_date FROM captures WHERE warc_record_id = ?", (row[5],)
            ).fetchone()
            if original:
                record_id, warc_date = original
        return PriorCapture(record_id=record_id, url=url, warc_date=warc_date, payload_digest=row[3])

    def captured(self, urls: list[str]) -> set[str]:
        """Which of these URLs have a successful capture (one query for a page's requisites)."""
        if not urls:
            return set()
        sql = f"SELECT DISTINCT url FROM captures WHERE url IN ({_marks(urls)}) AND status BETWEEN 200 AND 299"
        return {r[0] for r in self.conn.execute(sql, urls)}

    def capture(self, capture_id: int) -> CapturePointer | None:
        row = self.conn.execute(f"{_POINTER_SELECT} WHERE id = ?", (capture_id,)).fetchone()
        return self._confined(CapturePointer(*row)) if row else None

    def capture_by_record_id(self, record_id: str) -> CapturePointer | None:
        row = self.conn.execute(f"{_POINTER_SELECT} WHERE warc_record_id = ?", (record_id,)).fetchone()
        return self._confined(CapturePointer(*row)) if row else None

    def _confined(self, pointer: CapturePointer) -> CapturePointer:
        """A pointer to be read from: its file must be a plain name inside warc/ (a crafted `../x` is refused)."""
        try:
            ArchivePaths(self.path.parent).warc_file(pointer.warc_filename)
        except UsageProblem as problem:
            raise CatalogueError(f"capture {pointer.id}: {problem}") from None
        return pointer

    def iter_captures(self) -> Iterator[CapturePointer]:
        """Every capture as stored, unchecked (verify reports a pointer outside warc/ itself)."""
        for row in self.conn.execute(f"{_POINTER_SELECT} ORDER BY id"):
            yield CapturePointer(*row)

    def capture_rows(self, capture_ids: list[int]) -> dict[int, dict[str, Any]]:
        return capture_rows(self.conn, capture_ids)

    def article_captures(self, article_ids: list[str]) -> dict[str, int]:
        """The capture of each article's latest version (articles.capture_id), for those that have one."""
        if not article_ids:
            return {}
        sql = f"SELECT id, capture_id FROM articles WHERE id IN ({_marks(article_ids)}) AND capture_id IS NOT NULL"
        return dict(self.conn.execute(sql, article_ids).fetchall())

    def record_ids(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT warc_record_id FROM captures")}

    def latest_capture_of(self, article_id: str) -> int | None:
        """The newest capture linked to the article, of any status."""
        return self.conn.execute("SELECT max(id) FROM captures WHERE article_id = ?", (article_id,)).fetchone()[0]

    def latest_page_capture(self, article_id: str) -> int | None:
        row = self.conn.execute(
            "SELECT MAX(id) FROM captures WHERE article_id = ? AND status = 200", (article_id,)
        ).fetchone()
        return row[0] if row else None

    # -- articles -----------------------------------------------------------
    def known_ids(self, ids: list[str]) -> set[str]:
        """Which of these article IDs the catalogue already holds."""
        if not ids:
            return set()
        return {r[0] for r in self.conn.execute(f"SELECT id FROM articles WHERE id IN ({_marks(ids)})", ids)}

    def article_at(self, url: str) -> str | None:
        """The article the last catalogued answer of this URL was (an API detail URL names no article ID)."""
        row = self.conn.execute(
            "SELECT article_id FROM captures WHERE url = ? AND article_id IS NOT NULL ORDER BY id DESC LIMIT 1", (url,)
        ).fetchone()
        return row[0] if row else None

    def recheck_candidates(self, ids: list[str], published_since: str) -> dict[str, dict[str, str | None]]:
        """Known articles among `ids` published on or after the date, with their validators (ETag, Last-Modified)."""
        if not ids:
            return {}
        cursor = self.conn.execute(
            "SELECT a.id, c.etag, c.last_modified FROM articles a LEFT JOIN captures c ON c.id = a.capture_id"
            f" WHERE a.id IN ({_marks(ids)}) AND a.published >= ?",
            [*ids, published_since],
        )
        return {r[0]: {"etag": r[1], "last_modified": r[2]} for r in cursor}

    def iter_article_urls(
        self, published_since: str | None = None
    ) -> Iterator[tuple[str, str, str | None, str | None, str | None]]:
        """(id, url, URL of its last answer, etag, last_modified) of articles not marked gone, optionally recent ones.

        The last answer's URL is the article's API detail URL when it was catalogued from the JSON API.
        """
        sql = (
            "SELECT a.id, a.url, c.url, c.etag, c.last_modified FROM articles a"
            " LEFT JOIN captures c ON c.id = a.capture_id"
            " WHERE a.gone_since IS NULL"
        )
        params: list[str] = []
        if published_since is not None:
            sql += " AND a.published >= ?"
            params.append(published_since)
        yield from self.conn.execute(sql, params).fetchall()

    def article(self, article_id: str) -> dict[str, Any] | None:
        rows = dicts(self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)))
        return rows[0] if rows else None

    def versions(self, article_id: str) -> list[dict[str, Any]]:
        return dicts(self.conn.execute("SELECT * FROM versions WHERE article_id = ? ORDER BY version", (article_id,)))

    def dangling_articles(self) -> list[tuple[str, int]]:
        """(article, capture_id) of articles whose capture_id names no capture row."""
        return self.conn.execute(DANGLING_ARTICLES).fetchall()

    def dangling_versions(self) -> list[tuple[str, int, int]]:
        """(article, version, capture_id) of versions whose capture_id names no capture row."""
        return self.conn.execute(DANGLING_VERSIONS).fetchall()
