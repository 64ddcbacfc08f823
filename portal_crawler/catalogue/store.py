"""The Catalogue: one archive's catalogue.db, and every SQL write anyone makes to it.

Hot-path writes go through one connection in explicit transactions, so a run
can batch them; the caller commits only after the WARC records the rows point
at are on disk (see ArchiveSession.flush). The schema (schema.py) is plain
SQLite with declared foreign keys and an FTS5 index, so the file opens as it
is in Datasette and in the sqlite3 shell. Reads live in queries.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from portal_crawler.catalogue import schema
from portal_crawler.catalogue.connection import (
    BUSY_SECONDS,
    CatalogueBusy,
    CatalogueError,
    connect_reader,
    connect_writer,
    create_file,
    guarded,
    is_busy,
    not_usable,
)
from portal_crawler.catalogue.content import CONTENT_FIELDS, content_hash, row_values
from portal_crawler.catalogue.queries import CapturePointer, CatalogueReads
from portal_crawler.catalogue.runs import RunWrites
from portal_crawler.warc.records import RecordPointer

__all__ = ["CapturePointer", "Catalogue", "CatalogueBusy", "CatalogueError", "content_hash"]
Outcome = Literal["new", "updated", "unchanged"]
_VERSION_COLUMNS = ("url", *CONTENT_FIELDS, "template", "quality", "content_hash")
_LATER_VERSION_COLUMNS = ("problems", "field_sources", "profile_revision")  # migration 3


class Catalogue(RunWrites, CatalogueReads):
    """One archive's catalogue.db, opened for writing (`Catalogue(path)`) or reading (`Catalogue.reader(path)`)."""

    read_only = False

    def __init__(self, path: Path, *, create: bool = True, busy_seconds: float = BUSY_SECONDS) -> None:
        """Open for writing, upgrading an older schema in place (after a backup copy); create it if asked."""
        self.path, self.busy_seconds = Path(path), busy_seconds
        if not self.path.exists():
            if not create:
                raise CatalogueError(
                    f"no catalogue at {self.path} (run 'portal-crawler crawl' first, or pass --archive)"
                )
            create_file(self.path, self._build)
        self.conn = connect_writer(self.path, busy_seconds)
        self.db = sqlite_utils.Database(self.conn)
        try:
            self._upgrade()
        except BaseException:
            self.conn.close()
            raise

    def _build(self, conn: sqlite3.Connection) -> None:
        schema.upgrade(sqlite_utils.Database(conn), self.path, existing=False)

    def _upgrade(self) -> None:
        """Pending migrations applied; a schema newer than this release is refused, not touched."""
        try:
            version = schema.applied_version(self.db)
            if version > schema.LATEST:
                raise not_usable(
                    self.path, f"schema {version} was written by a newer release (this one knows {schema.LATEST})"
                )
            schema.upgrade(self.db, self.path, existing=True)
        except sqlite3.DatabaseError as error:
            if is_busy(error):
                raise CatalogueBusy(self.path, self.busy_seconds) from None
            raise not_usable(self.path, str(error)) from None

    @classmethod
    def reader(cls, path: Path, *, busy_seconds: float = BUSY_SECONDS) -> Catalogue:
        """Open read-only (`mode=ro`, or `immutable` on a read-only mount): never creates or migrates anything."""
        catalogue = cls.__new__(cls)
        catalogue.path, catalogue.busy_seconds, catalogue.read_only = Path(path), busy_seconds, True
        catalogue.conn = connect_reader(catalogue.path, busy_seconds)
        catalogue.db = sqlite_utils.Database(catalogue.conn, recursive_triggers=False)
        try:
            lacking = schema.missing_columns(catalogue.conn)
        except sqlite3.DatabaseError as error:
            catalogue.conn.close()
            raise not_usable(catalogue.path, str(error)) from None
        if lacking:
            catalogue.conn.close()
            raise not_usable(
                catalogue.path,
                f"made by an older release, it lacks {', '.join(lacking[:3])}; open it once where it is"
                " writable (portal-crawler verify --repair) to upgrade it",
            )
        return catalogue

    @guarded
    def enable_search(self) -> None:
        """The FTS5 index over title, summary, body, author, kept current by triggers (filled from articles)."""
        schema.enable_search(self.db)

    @guarded
    def disable_search(self) -> None:
        """Drop the FTS index and its triggers (a bulk rebuild then calls enable_search once)."""
        self.db.table("articles").disable_fts()

    @guarded
    def drop_indexes(self) -> None:
        """For a bulk load (reindex): the secondary indexes are built once at the end instead."""
        for name in schema.INDEXES:
            self.conn.execute(f"DROP INDEX IF EXISTS {name}")

    @guarded
    def build_indexes(self) -> None:
        schema.build_indexes(self.conn)

    @guarded
    def bulk_load_mode(self) -> None:
        """For a scratch catalogue being filled (reindex): no journal, no syncs, 256 MB of page cache."""
        self.conn.commit()
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
            self.conn.execute(f"PRAGMA {pragma}")

    @guarded
    def durable_mode(self) -> None:
        """Back to WAL with full syncs, before a scratch catalogue is swapped in."""
        self.conn.commit()
        for pragma in ("journal_mode=WAL", "synchronous=FULL"):
            self.conn.execute(f"PRAGMA {pragma}")

    @guarded
    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        if not self.read_only:
            self.commit()
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction taken at once (BEGIN IMMEDIATE): committed whole, or rolled back whole."""
        self._begin()
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        self.commit()

    @guarded
    def _begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    # -- captures -----------------------------------------------------------
    @guarded
    def add_capture(
        self,
        run_id: int | None,
        pointer: RecordPointer,
        *,
        url: str,
        status: int,
        content_type: str | None,
        fetched_at: str,
        etag: str | None = None,
        last_modified: str | None = None,
        refers_to: str | None = None,
    ) -> int:
        row = {
            "url": url,
            "run_id": run_id,
            "fetched_at": fetched_at,
            "status": status,
            "content_type": content_type,
            "payload_digest": pointer.payload_digest,
            "warc_filename": pointer.filename,
            "warc_offset": pointer.offset,
            "warc_length": pointer.length,
            "warc_record_id": pointer.record_id,
            "record_type": pointer.record_type,
            "warc_date": pointer.warc_date,
            "refers_to": refers_to,
            "etag": etag,
            "last_modified": last_modified,
        }
        return self._insert("captures", row)

    @guarded
    def link_capture(self, capture_id: int, article_id: str) -> None:
        self.conn.execute("UPDATE captures SET article_id = ? WHERE id = ?", (article_id, capture_id))

    @guarded
    def repoint_capture(self, capture_id: int, filename: str, offset: int, length: int) -> None:
        """The capture's record was found elsewhere (verify --repair): point the row there."""
        self.conn.execute(
            "UPDATE captures SET warc_filename = ?, warc_offset = ?, warc_length = ? WHERE id = ?",
            (filename, offset, length, capture_id),
        )

    # -- articles -----------------------------------------------------------
    @guarded
    def relink_article(self, article_id: str, capture_id: int) -> None:
        """Point the article at another of its captures (its own capture row is gone)."""
        self.conn.execute("UPDATE articles SET capture_id = ? WHERE id = ?", (capture_id, article_id))

    @guarded
    def touch_article(self, article_id: str, seen_at: str, capture_id: int | None) -> bool:
        """The article answered unchanged (e.g. 304): update last_seen; False if it is not catalogued."""
        cur = self.conn.execute(
            "UPDATE articles SET last_seen = ?, gone_since = NULL WHERE id = ?", (seen_at, article_id)
        )
        if capture_id is not None and cur.rowcount:
            self.link_capture(capture_id, article_id)
        return cur.rowcount > 0

    @guarded
    def mark_gone(self, article_id: str, seen_at: str, capture_id: int | None) -> bool:
        """The article now answers 404/410: keep it, note since when it is gone."""
        cur = self.conn.execute(
            "UPDATE articles SET gone_since = COALESCE(gone_since, ?) WHERE id = ?", (seen_at[:10], article_id)
        )
        if capture_id is not None and cur.rowcount:
            self.link_capture(capture_id, article_id)
        return cur.rowcount > 0

    @guarded
    def upsert_article(self, article: dict[str, Any], capture_id: int | None, captured_at: str) -> Outcome:
        """Insert a new article, add a version when its content changed, or touch last_seen."""
        values = row_values(article)
        current = self.conn.execute(
            "SELECT version, content_hash, summary FROM articles WHERE id = ?", (values["id"],)
        ).fetchone()
        if current and values["summary"] is None:
            values["summary"] = current[2]  # fetched without a listing (a sweep): the listing's summary stands
        values["content_hash"] = digest = content_hash(values)
        if current and current[1] == digest:
            self.conn.execute(
                "UPDATE articles SET last_seen = ?, gone_since = NULL WHERE id = ?", (captured_at, values["id"])
            )
            outcome: Outcome = "unchanged"
        else:
            version = current[0] + 1 if current else 1
            self._write_article(values, version, capture_id, captured_at, is_new=current is None)
            outcome = "updated" if current else "new"
        if capture_id is not None:
            self.link_capture(capture_id, values["id"])
        return outcome

    def _write_article(
        self, values: dict[str, Any], version: int, capture_id: int | None, captured_at: str, is_new: bool
    ) -> None:
        row = {**values, "version": version, "capture_id": capture_id, "last_seen": captured_at, "gone_since": None}
        if is_new:
            self._insert("articles", {**row, "first_seen": captured_at})
        else:
            columns = [c for c in row if c != "id"]
            self.conn.execute(
                f"UPDATE articles SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                [row[c] for c in columns] + [row["id"]],
            )
        version_row = {k: row[k] for k in (*_VERSION_COLUMNS, *_LATER_VERSION_COLUMNS)}
        version_row.update(article_id=row["id"], version=version, captured_at=captured_at, capture_id=capture_id)
        self._insert("versions", version_row)

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        columns = list(row)
        cur = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row[c] for c in columns],
        )
        return int(cur.lastrowid or 0)
