"""The SQLite catalogue: schema, writes and queries, used by the pipelines and the CLI alike.

Hot-path writes go through one connection in explicit transactions, so a run
can batch them; the caller commits only after the WARC records the rows point
at are on disk (see ArchiveSession.flush). The schema is plain SQLite with
declared foreign keys and an FTS5 index, so the file opens as it is in
Datasette and in the sqlite3 shell.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from portal_crawler.core.errors import UsageProblem
from portal_crawler.warc.records import PriorCapture, RecordPointer

SCHEMA_VERSION = 1
Outcome = Literal["new", "updated", "unchanged"]
FTS_COLUMNS = ["title", "summary", "body", "author"]
CONTENT_FIELDS = ("title", "published", "author", "summary", "body", "captions", "images")

_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
    mode TEXT NOT NULL, requests INTEGER DEFAULT 0, responses INTEGER DEFAULT 0,
    articles_new INTEGER DEFAULT 0, articles_updated INTEGER DEFAULT 0,
    articles_unchanged INTEGER DEFAULT 0, errors INTEGER DEFAULT 0, warc_bytes INTEGER DEFAULT 0,
    profile TEXT, software_version TEXT, pid INTEGER, error_summary TEXT,
    walk_complete INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY, url TEXT NOT NULL, article_id TEXT REFERENCES articles(id),
    run_id INTEGER REFERENCES runs(id), fetched_at TEXT NOT NULL, status INTEGER,
    content_type TEXT, payload_digest TEXT, warc_filename TEXT NOT NULL, warc_offset INTEGER NOT NULL,
    warc_length INTEGER NOT NULL, warc_record_id TEXT NOT NULL, record_type TEXT NOT NULL,
    warc_date TEXT, refers_to TEXT, etag TEXT, last_modified TEXT
);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, title TEXT, published TEXT, author TEXT, summary TEXT,
    body TEXT, captions TEXT, images TEXT, section TEXT, template TEXT, quality TEXT, problems TEXT,
    content_hash TEXT, first_seen TEXT, last_seen TEXT, version INTEGER NOT NULL DEFAULT 1,
    capture_id INTEGER REFERENCES captures(id), gone_since TEXT
);
CREATE TABLE IF NOT EXISTS versions (
    article_id TEXT NOT NULL REFERENCES articles(id), version INTEGER NOT NULL,
    content_hash TEXT NOT NULL, captured_at TEXT, capture_id INTEGER REFERENCES captures(id),
    url TEXT, title TEXT, published TEXT, author TEXT, summary TEXT, body TEXT, captions TEXT,
    images TEXT, template TEXT, quality TEXT,
    PRIMARY KEY (article_id, version)
);
"""

_INDEXES = {
    "captures_url": "captures(url, id)",
    "captures_article": "captures(article_id)",
    "articles_published": "articles(published)",
    "articles_author": "articles(author)",
}


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def content_hash(article: dict[str, Any]) -> str:
    """Hash of the article's content fields, stable across runs."""
    content = {k: article.get(k) for k in CONTENT_FIELDS}
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


_POINTER_SELECT = (
    "SELECT id, url, warc_filename, warc_offset, warc_length, warc_record_id, record_type,"
    " payload_digest, article_id FROM captures"
)


class CatalogueError(UsageProblem):
    """The catalogue cannot be opened or used; the message says why."""


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


class Catalogue:
    """One archive's catalogue.db."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise CatalogueError(f"no catalogue at {self.path} (run 'portal-crawler crawl' first, or pass --archive)")
        try:
            self.conn = sqlite3.connect(self.path, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.db = sqlite_utils.Database(self.conn)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise CatalogueError(f"{self.path} is not a usable SQLite catalogue: {exc}") from None

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            return
        self.conn.executescript(_TABLES)
        self.build_indexes()
        if "articles_fts" not in self.db.table_names():
            self.enable_search()
        self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self.conn.commit()

    def enable_search(self) -> None:
        """The FTS5 index over title, summary, body, author, kept current by triggers (filled from articles)."""
        self.db["articles"].enable_fts(FTS_COLUMNS, create_triggers=True, tokenize="unicode61 remove_diacritics 2")

    def disable_search(self) -> None:
        """Drop the FTS index and its triggers (a bulk rebuild then calls enable_search once)."""
        self.db["articles"].disable_fts()

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()

    # -- runs ---------------------------------------------------------------
    def start_run(self, mode: str, profile: str, software_version: str, pid: int) -> int:
        cur = self.conn.execute(
            "INSERT INTO runs (started, status, mode, profile, software_version, pid) VALUES (?, 'running', ?, ?, ?, ?)",
            (utcnow(), mode, profile, software_version, pid),
        )
        self.conn.commit()
        return int(cur.lastrowid)

    def previous_walk_complete(self, run_id: int) -> bool:
        """Whether the run before `run_id` walked the listings to a clean end (no crash, no failures)."""
        row = self.conn.execute(
            "SELECT walk_complete FROM runs WHERE id < ? ORDER BY id DESC LIMIT 1", (run_id,)
        ).fetchone()
        return bool(row and row[0])

    def set_walk_complete(self, run_id: int, complete: bool) -> None:
        self.conn.execute("UPDATE runs SET walk_complete = ? WHERE id = ?", (int(complete), run_id))

    def finish_run(self, run_id: int, status: str, counts: dict[str, int], error_summary: str | None = None) -> None:
        columns = (
            "requests",
            "responses",
            "articles_new",
            "articles_updated",
            "articles_unchanged",
            "errors",
            "warc_bytes",
        )
        values = [counts.get(c, 0) for c in columns]
        assignments = ", ".join(f"{c} = ?" for c in columns)
        self.conn.execute(
            f"UPDATE runs SET finished = ?, status = ?, error_summary = ?, {assignments} WHERE id = ?",
            (utcnow(), status, error_summary, *values, run_id),
        )
        self.conn.commit()

    def drop_indexes(self) -> None:
        """For a bulk load (reindex): the secondary indexes are built once at the end instead."""
        for name in _INDEXES:
            self.conn.execute(f"DROP INDEX IF EXISTS {name}")

    def build_indexes(self) -> None:
        for name, target in _INDEXES.items():
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    # -- captures -----------------------------------------------------------
    def add_capture(
        self,
        run_id: int,
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
        cur = self.conn.execute(
            "INSERT INTO captures (url, run_id, fetched_at, status, content_type, payload_digest, warc_filename,"
            " warc_offset, warc_length, warc_record_id, record_type, warc_date, refers_to, etag, last_modified)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                url,
                run_id,
                fetched_at,
                status,
                content_type,
                pointer.payload_digest,
                pointer.filename,
                pointer.offset,
                pointer.length,
                pointer.record_id,
                pointer.record_type,
                pointer.warc_date,
                refers_to,
                etag,
                last_modified,
            ),
        )
        return int(cur.lastrowid)

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
        marks = ",".join("?" * len(urls))
        return {
            r[0]
            for r in self.conn.execute(
                f"SELECT DISTINCT url FROM captures WHERE url IN ({marks}) AND status BETWEEN 200 AND 299", urls
            )
        }

    def link_capture(self, capture_id: int, article_id: str) -> None:
        self.conn.execute("UPDATE captures SET article_id = ? WHERE id = ?", (article_id, capture_id))

    def capture(self, capture_id: int) -> CapturePointer | None:
        row = self.conn.execute(
            f"{_POINTER_SELECT} WHERE id = ?",
            (capture_id,),
        ).fetchone()
        return CapturePointer(*row) if row else None

    def iter_captures(self) -> Iterator[CapturePointer]:
        cur = self.conn.execute(f"{_POINTER_SELECT} ORDER BY id")
        for row in cur:
            yield CapturePointer(*row)

    # -- articles -----------------------------------------------------------
    def known_ids(self, ids: list[str]) -> set[str]:
        """Which of these article IDs the catalogue already holds."""
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return {r[0] for r in self.conn.execute(f"SELECT id FROM articles WHERE id IN ({marks})", ids)}

    def recheck_candidates(self, ids: list[str], published_since: str) -> dict[str, dict[str, str | None]]:
        """Known articles among `ids` published on or after the date, with their validators (ETag, Last-Modified)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        cur = self.conn.execute(
            f"SELECT a.id, c.etag, c.last_modified FROM articles a LEFT JOIN captures c ON c.id = a.capture_id"
            f" WHERE a.id IN ({marks}) AND a.published >= ?",
            [*ids, published_since],
        )
        return {r[0]: {"etag": r[1], "last_modified": r[2]} for r in cur}

    def iter_article_urls(
        self, published_since: str | None = None
    ) -> Iterator[tuple[str, str, str | None, str | None]]:
        """(id, url, etag, last_modified) of catalogued articles not marked gone, optionally recent ones only."""
        sql = (
            "SELECT a.id, a.url, c.etag, c.last_modified FROM articles a LEFT JOIN captures c ON c.id = a.capture_id"
            " WHERE a.gone_since IS NULL"
        )
        params: list[str] = []
        if published_since is not None:
            sql += " AND a.published >= ?"
            params.append(published_since)
        yield from self.conn.execute(sql, params).fetchall()

    def touch_article(self, article_id: str, seen_at: str, capture_id: int | None) -> bool:
        """The article answered unchanged (e.g. 304): update last_seen; False if it is not catalogued."""
        cur = self.conn.execute(
            "UPDATE articles SET last_seen = ?, gone_since = NULL WHERE id = ?", (seen_at, article_id)
        )
        if capture_id is not None and cur.rowcount:
            self.link_capture(capture_id, article_id)
        return cur.rowcount > 0

    def mark_gone(self, article_id: str, seen_at: str, capture_id: int | None) -> bool:
        """The article now answers 404/410: keep it, note since when it is gone."""
        cur = self.conn.execute(
            "UPDATE articles SET gone_since = COALESCE(gone_since, ?) WHERE id = ?", (seen_at[:10], article_id)
        )
        if capture_id is not None and cur.rowcount:
            self.link_capture(capture_id, article_id)
        return cur.rowcount > 0

    def article(self, article_id: str) -> dict[str, Any] | None:
        cur = self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def upsert_article(self, article: dict[str, Any], capture_id: int | None, captured_at: str) -> Outcome:
        """Insert a new article, add a version when its content changed, or touch last_seen."""
        values = _row_values(article)
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
            row["first_seen"] = captured_at
            columns = list(row)
            self.conn.execute(
                f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [row[c] for c in columns],
            )
        else:
            columns = [c for c in row if c != "id"]
            self.conn.execute(
                f"UPDATE articles SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                [row[c] for c in columns] + [row["id"]],
            )
        version_row = {k: row[k] for k in ("url", *CONTENT_FIELDS, "template", "quality", "content_hash")}
        version_row.update(article_id=row["id"], version=version, captured_at=captured_at, capture_id=capture_id)
        columns = list(version_row)
        self.conn.execute(
            f"INSERT INTO versions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [version_row[c] for c in columns],
        )

    def versions(self, article_id: str) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT * FROM versions WHERE article_id = ? ORDER BY version", (article_id,))
        return [dict(zip([d[0] for d in cur.description], row)) for row in cur]

    def latest_page_capture(self, article_id: str) -> int | None:
        row = self.conn.execute(
            "SELECT MAX(id) FROM captures WHERE article_id = ? AND status = 200", (article_id,)
        ).fetchone()
        return row[0] if row else None

    def capture_by_record_id(self, record_id: str) -> CapturePointer | None:
        row = self.conn.execute(
            f"{_POINTER_SELECT} WHERE warc_record_id = ?",
            (record_id,),
        ).fetchone()
        return CapturePointer(*row) if row else None


_ARTICLE_COLUMNS = (
    "id",
    "url",
    "title",
    "published",
    "author",
    "summary",
    "body",
    "captions",
    "images",
    "section",
    "template",
    "quality",
    "problems",
)


def _row_values(article: dict[str, Any]) -> dict[str, Any]:
    """Article item fields as column values: lists become JSON arrays."""
    values = {}
    for column in _ARTICLE_COLUMNS:
        value = article.get(column)
        if isinstance(value, (list, tuple)):
            value = json.dumps(list(value), ensure_ascii=False)
        values[column] = value
    return values
