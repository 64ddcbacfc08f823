"""The catalogue's tables, indexes and FTS index, and the numbered migrations that build and upgrade them.

Migrations are an sqlite-migrate set (`_sqlite_migrations` records what is
applied); `PRAGMA user_version` mirrors their count for the sqlite3 shell and
Datasette. Release 0.1.0 wrote migration 1's schema with user_version 1 and no
migrations table: such a file is adopted as having migration 1 applied. An
existing file is copied (SQLite backup API) to `catalogue.db.bak-schema-<N>`
before anything is applied to it.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_migrate import Migrations

from portal_crawler.catalogue.content import content_hash

log = logging.getLogger(__name__)
migrations = Migrations("portal_crawler")
TABLES = ("runs", "captures", "articles", "versions")
FTS_COLUMNS = ["title", "summary", "body", "author"]
FTS_TOKENIZE = "unicode61 remove_diacritics 2"

# Migration 1: the schema release 0.1.0 wrote, column for column (no commas inside a definition).
_TABLES_0_1_0 = {
    "runs": "id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,"
    " mode TEXT NOT NULL, requests INTEGER DEFAULT 0, responses INTEGER DEFAULT 0,"
    " articles_new INTEGER DEFAULT 0, articles_updated INTEGER DEFAULT 0,"
    " articles_unchanged INTEGER DEFAULT 0, errors INTEGER DEFAULT 0, warc_bytes INTEGER DEFAULT 0,"
    " profile TEXT, software_version TEXT, pid INTEGER, error_summary TEXT, walk_complete INTEGER DEFAULT 0",
    "captures": "id INTEGER PRIMARY KEY, url TEXT NOT NULL, article_id TEXT REFERENCES articles(id),"
    " run_id INTEGER REFERENCES runs(id), fetched_at TEXT NOT NULL, status INTEGER,"
    " content_type TEXT, payload_digest TEXT, warc_filename TEXT NOT NULL, warc_offset INTEGER NOT NULL,"
    " warc_length INTEGER NOT NULL, warc_record_id TEXT NOT NULL, record_type TEXT NOT NULL,"
    " warc_date TEXT, refers_to TEXT, etag TEXT, last_modified TEXT",
    "articles": "id TEXT PRIMARY KEY, url TEXT NOT NULL, title TEXT, published TEXT, author TEXT, summary TEXT,"
    " body TEXT, captions TEXT, images TEXT, section TEXT, template TEXT, quality TEXT, problems TEXT,"
    " content_hash TEXT, first_seen TEXT, last_seen TEXT, version INTEGER NOT NULL DEFAULT 1,"
    " capture_id INTEGER REFERENCES captures(id), gone_since TEXT",
    "versions": "article_id TEXT NOT NULL REFERENCES articles(id), version INTEGER NOT NULL,"
    " content_hash TEXT NOT NULL, captured_at TEXT, capture_id INTEGER REFERENCES captures(id),"
    " url TEXT, title TEXT, published TEXT, author TEXT, summary TEXT, body TEXT, captions TEXT,"
    " images TEXT, template TEXT, quality TEXT",
}
COLUMNS_0_1_0 = {table: tuple(d.strip() for d in text.split(",")) for table, text in _TABLES_0_1_0.items()}
CONSTRAINTS = {"versions": ("PRIMARY KEY (article_id, version)",)}
INDEXES = {
    "captures_url": "captures(url, id)",
    "captures_article": "captures(article_id)",
    "articles_published": "articles(published)",
    "articles_author": "articles(author)",
}
# Migration 3: columns later work needs, added now so the schema has one upgrade path.
LATER_COLUMNS = {
    "articles": ("field_sources TEXT", "profile_revision TEXT"),
    "versions": ("field_sources TEXT", "profile_revision TEXT", "problems TEXT"),
    "runs": ("quality TEXT", "alarms TEXT", "exit_code INTEGER"),
    "captures": ("scope_ok INTEGER",),
}


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _addable(definition: str) -> bool:
    """Whether ALTER TABLE ADD COLUMN accepts it (no key, no NOT NULL without a default)."""
    upper = definition.upper()
    return "PRIMARY KEY" not in upper and ("NOT NULL" not in upper or "DEFAULT" in upper)


def _add_columns(conn: sqlite3.Connection, table: str, definitions: tuple[str, ...] | list[str]) -> None:
    """ALTER TABLE ADD COLUMN for each definition whose column is not there yet (so re-running is harmless)."""
    present = columns(conn, table)
    for definition in definitions:
        if definition.split()[0] not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {definition}")


def build_indexes(conn: sqlite3.Connection) -> None:
    for name, target in INDEXES.items():
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def enable_search(db: sqlite_utils.Database) -> None:
    db.table("articles").enable_fts(FTS_COLUMNS, create_triggers=True, tokenize=FTS_TOKENIZE)


@migrations(name="m001_schema_0_1_0", transactional=False)  # enable_fts runs a script, which commits
def m001_schema_0_1_0(db: sqlite_utils.Database) -> None:
    """The 0.1.0 tables, indexes and FTS; idempotent, so adopting a 0.1.0 file runs it harmlessly too.

    A file from before 0.1.0 (user_version 1 while columns were still being added)
    gets the columns it lacks.
    """
    for table, definitions in COLUMNS_0_1_0.items():
        body = ", ".join((*definitions, *CONSTRAINTS.get(table, ())))
        db.conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        _add_columns(db.conn, table, [d for d in definitions if _addable(d)])
    build_indexes(db.conn)
    if "articles_fts" not in db.table_names():
        enable_search(db)


@migrations(name="m002_content_hash_by_path")
def m002_content_hash_by_path(db: sqlite_utils.Database) -> None:
    """Recompute content_hash under the rule that ignores the host (images by path, no summary).

    The FTS update trigger is set aside meanwhile: no indexed column changes.
    """
    conn = db.conn
    trigger = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'articles_au'").fetchone()
    if trigger:
        conn.execute("DROP TRIGGER articles_au")
    for table, key in (("articles", "id"), ("versions", "article_id, version")):
        cursor = conn.execute(f"SELECT {key}, title, published, author, body, captions, images FROM {table}")
        width = key.count(",") + 1
        names = ("title", "published", "author", "body", "captions", "images")
        updates = [(content_hash(dict(zip(names, row[width:], strict=True))), *row[:width]) for row in cursor]
        where = " AND ".join(f"{k.strip()} = ?" for k in key.split(","))
        conn.executemany(f"UPDATE {table} SET content_hash = ? WHERE {where}", updates)
    if trigger:
        conn.execute(trigger[0])


@migrations(name="m003_columns_for_later_work")
def m003_columns_for_later_work(db: sqlite_utils.Database) -> None:
    """Field sources and profile revision per article and version, run quality, alarms, exit code, capture scope."""
    for table, definitions in LATER_COLUMNS.items():
        _add_columns(db.conn, table, definitions)


LATEST = len(migrations.pending(sqlite_utils.Database(memory=True)))  # the set's size, by its public API


def applied_version(db: sqlite_utils.Database) -> int:
    """How many of this set's migrations the file has (a 0.1.0 file: its user_version, 1)."""
    if migrations.migrations_table in db.table_names():
        return len(migrations.applied(db))
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def upgrade(db: sqlite_utils.Database, path: Path, *, existing: bool) -> int:
    """Apply pending migrations (after a backup copy of an existing file); the version the file had."""
    old = applied_version(db)
    if old >= LATEST and migrations.migrations_table in db.table_names():
        return old
    if existing:
        backup(db.conn, path, old)
    if migrations.migrations_table not in db.table_names() and old >= 1:
        _adopt(db)
    migrations.apply(db)
    db.conn.execute(f"PRAGMA user_version = {LATEST}")
    db.conn.commit()
    log.info("catalogue %s upgraded from schema %d to %d", path, old, LATEST)
    return old


def _adopt(db: sqlite_utils.Database) -> None:
    """Record migration 1 as applied to a file 0.1.0 wrote (running it first: it only adds what is missing)."""
    m001_schema_0_1_0(db)
    migrations.ensure_migrations_table(db)
    db.table(migrations.migrations_table).insert(
        {"migration_set": migrations.name, "name": "m001_schema_0_1_0", "applied_at": str(datetime.now(UTC))}
    )


def backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """A consistent copy of the catalogue (WAL included) beside it, never over an earlier copy."""
    target, serial = path.with_name(f"{path.name}.bak-schema-{version}"), 1
    while target.exists():
        serial += 1
        target = path.with_name(f"{path.name}.bak-schema-{version}.{serial}")
    copy = sqlite3.connect(target)
    try:
        conn.backup(copy)
    finally:
        copy.close()
    log.info("catalogue %s: schema %d kept as %s before upgrading", path, version, target)
    return target


def missing_columns(conn: sqlite3.Connection) -> list[str]:
    """Columns of the 0.1.0 schema a file lacks (`table.column`): the reads need all of them."""
    lacking = []
    for table, definitions in COLUMNS_0_1_0.items():
        present = columns(conn, table)
        lacking += [f"{table}.{d.split()[0]}" for d in definitions if d.split()[0] not in present]
    return lacking
