"""The catalogue on tmp_path databases: migrations, the content hash, opening modes, busy files, run bookkeeping."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ARCHIVE_0_1_0, one_line, query, run_cli

from portal_crawler.catalogue import Catalogue, CatalogueBusy, CatalogueError, content_hash, schema
from portal_crawler.catalogue.connection import read_mode
from portal_crawler.catalogue.runs import KILLED
from portal_crawler.core.errors import EXIT_BUSY, EXIT_USAGE, UsageProblem
from portal_crawler.warc.records import RecordPointer

ARTICLE: dict[str, Any] = {
    "id": "t1",
    "url": "http://127.0.0.1:8001/news/t1.html",
    "title": "Minister receives ambassador",
    "published": "2026-11-30",
    "author": "Thu Hà",
    "summary": "A visit.",
    "body": "First paragraph.\n\nSecond paragraph.",
    "captions": ["The minister"],
    "images": ["http://127.0.0.1:8001/img/a.jpg"],
    "template": "article",
    "quality": "ok",
}


def pointer(n: int, filename: str = "MPS-1.warc.gz") -> RecordPointer:
    return RecordPointer(filename, n * 100, 90, f"<urn:uuid:{n}>", "response", "sha1:X", "2026-12-01T00:00:00Z", 0, 0)


def capture(catalogue: Catalogue, run: int, n: int, url: str = ARTICLE["url"]) -> int:
    return catalogue.add_capture(
        run, pointer(n), url=url, status=200, content_type="text/html", fetched_at="2026-12-01T00:00:00Z"
    )


def files(directory: Path) -> list[str]:
    """The files of a directory, leaving out SQLite's -wal and -shm (a read-only open leaves them, empty)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(("-wal", "-shm")))


@pytest.fixture
def old(tmp_path: Path) -> Path:
    """A copy of the catalogue release 0.1.0 wrote (user_version 1, no migrations table)."""
    shutil.copy(ARCHIVE_0_1_0 / "catalogue.db", tmp_path / "catalogue.db")
    return tmp_path / "catalogue.db"


# -- migrations ----------------------------------------------------------------------------


def test_a_new_catalogue_has_every_migration(tmp_path: Path) -> None:
    Catalogue(tmp_path / "catalogue.db").close()
    db = tmp_path / "catalogue.db"
    assert query(db, "PRAGMA user_version") == [(schema.LATEST,)] and schema.LATEST == 3
    names = [n for (n,) in query(db, "SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == ["m001_schema_0_1_0", "m002_content_hash_by_path", "m003_columns_for_later_work"]
    assert files(tmp_path) == ["catalogue.db"]  # no scratch or backup left


def test_a_0_1_0_catalogue_is_adopted_backed_up_and_migrated(old: Path) -> None:
    before = query(old, "SELECT id, title, body, content_hash FROM articles ORDER BY id")
    Catalogue(old).close()
    backup = old.with_name("catalogue.db.bak-schema-1")
    assert query(backup, "PRAGMA user_version") == [(1,)]
    assert query(backup, "SELECT id, title, body, content_hash FROM articles ORDER BY id") == before
    assert "_sqlite_migrations" not in {n for (n,) in query(backup, "SELECT name FROM sqlite_master")}
    assert query(old, "PRAGMA user_version") == [(3,)]
    assert len(query(old, "SELECT name FROM _sqlite_migrations")) == 3
    assert {"field_sources", "profile_revision"} <= schema.columns(sqlite3.connect(old), "articles")
    after = query(old, "SELECT id, title, published, author, body, captions, images, content_hash FROM articles")
    names = ("id", "title", "published", "author", "body", "captions", "images")
    assert all(row[-1] == content_hash(dict(zip(names, row[:-1], strict=True))) for row in after)
    assert {r[-1] for r in after}.isdisjoint(r[-1] for r in before)  # every hash recomputed under the new rule
    Catalogue(old).close()  # nothing pending: no second backup
    assert files(old.parent) == ["catalogue.db", "catalogue.db.bak-schema-1"]


def test_version_hashes_are_recomputed_too(old: Path) -> None:
    Catalogue(old).close()
    rows = query(old, "SELECT title, published, author, body, captions, images, content_hash FROM versions")
    names = ("title", "published", "author", "body", "captions", "images")
    assert rows and all(r[-1] == content_hash(dict(zip(names, r[:-1], strict=True))) for r in rows)


def test_a_schema_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "catalogue.db"
    Catalogue(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name) VALUES ('portal_crawler', 'm004_future')")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogueError, match="newer release"):
        Catalogue(db)


# -- content hash ----------------------------------------------------------------------------


def test_the_content_hash_ignores_the_host_it_was_fetched_from() -> None:
    elsewhere = {**ARTICLE, "url": "https://en.mps.gov.vn/news/t1.html", "images": ["https://en.mps.gov.vn/img/a.jpg"]}
    assert content_hash(elsewhere) == content_hash(ARTICLE)
    assert content_hash({**ARTICLE, "images": '["http://x:9/img/a.jpg"]'}) == content_hash(ARTICLE)  # stored JSON
    assert content_hash({**ARTICLE, "images": ["http://127.0.0.1:8001/img/b.jpg"]}) != content_hash(ARTICLE)
    for field, value in [("title", "Other"), ("body", "Changed."), ("captions", ["x"]), ("published", "2026-12-01")]:
        assert content_hash({**ARTICLE, field: value}) != content_hash(ARTICLE), field


def test_a_refetch_from_another_port_is_unchanged(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "catalogue.db")
    run = catalogue.start_run("full", "mps", "test", 1)
    assert catalogue.upsert_article(ARTICLE, capture(catalogue, run, 1), "2026-12-01T00:00:00Z") == "new"
    moved = {**ARTICLE, "url": "http://127.0.0.1:9999/news/t1.html", "images": ["http://127.0.0.1:9999/img/a.jpg"]}
    assert catalogue.upsert_article(moved, capture(catalogue, run, 2, moved["url"]), "2026-12-02T00:00:00Z") == (
        "unchanged"
    )
    assert len(catalogue.versions("t1")) == 1
    assert catalogue.capture(2).url == moved["url"]  # type: ignore[union-attr]  # the capture keeps the URL fetched
    catalogue.close()


def test_field_sources_and_profile_revision_are_stored_when_given(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "catalogue.db")
    run = catalogue.start_run("full", "mps", "test", 1)
    catalogue.upsert_article(ARTICLE, capture(catalogue, run, 1), "2026-12-01T00:00:00Z")
    sourced = {**ARTICLE, "id": "t2", "field_sources": {"title": "selector"}, "profile_revision": "mps@3"}
    catalogue.upsert_article(sourced, capture(catalogue, run, 2), "2026-12-01T00:00:00Z")
    catalogue.close()
    db = tmp_path / "catalogue.db"
    assert query(db, "SELECT id, field_sources, profile_revision FROM articles ORDER BY id") == [
        ("t1", None, None),
        ("t2", '{"title": "selector"}', "mps@3"),
    ]
    assert query(db, "SELECT field_sources, profile_revision FROM versions WHERE article_id = 't2'") == [
        ('{"title": "selector"}', "mps@3")
    ]


# -- opening -------------------------------------------------------------------------------


def test_errors_have_their_exit_codes(tmp_path: Path) -> None:
    assert issubclass(CatalogueError, UsageProblem) and CatalogueError.exit_code == EXIT_USAGE
    assert CatalogueBusy(tmp_path, 5).exit_code == EXIT_BUSY


def test_a_reader_never_creates_or_migrates(old: Path, tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no catalogue at"):
        Catalogue.reader(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()
    before = old.read_bytes()
    reader = Catalogue.reader(old)
    assert reader.article("t10000")["version"] == 2  # type: ignore[index]
    with pytest.raises(CatalogueError, match="reading only"):
        reader.start_run("full", "mps", "test", 1)
    reader.close()
    assert old.read_bytes() == before and files(old.parent) == ["catalogue.db"]


@pytest.mark.parametrize("content", [b"", b"these are not the bytes of a SQLite database\n" * 10])
@pytest.mark.parametrize("opener", [Catalogue, Catalogue.reader])
def test_empty_and_non_sqlite_files_are_refused_untouched(tmp_path: Path, content: bytes, opener) -> None:
    db = tmp_path / "catalogue.db"
    db.write_bytes(content)
    with pytest.raises(CatalogueError) as refused:
        opener(db)
    assert str(db) in str(refused.value) and "\n" not in str(refused.value)
    assert db.read_bytes() == content and files(tmp_path) == ["catalogue.db"]


@pytest.mark.parametrize("opener", [Catalogue, Catalogue.reader])
def test_a_sqlite_file_of_someone_else_is_refused_untouched(tmp_path: Path, opener) -> None:
    db = tmp_path / "catalogue.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(CatalogueError, match="other tables \\(invoices\\)"):
        opener(db)
    assert db.read_bytes() == before
    assert query(db, "SELECT name FROM sqlite_master") == [("invoices",)]


def test_a_reader_refuses_a_catalogue_lacking_the_columns_reads_need(tmp_path: Path) -> None:
    db = tmp_path / "catalogue.db"
    conn = sqlite3.connect(db)
    for table in ("runs", "captures", "articles", "versions"):
        conn.execute(f"CREATE TABLE {table} (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogueError, match="older release, it lacks"):
        Catalogue.reader(db)


def test_the_read_mode_follows_what_can_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "catalogue.db"
    Catalogue(db).close()
    assert read_mode(db) == "mode=ro"
    monkeypatch.setattr("os.access", lambda path, mode: False)  # a read-only mount, as seen by access(2)
    assert read_mode(db) == "immutable=1"
    reader = Catalogue.reader(db)  # opens immutable: the mount could not take a -shm file
    assert reader.article("t1") is None
    reader.close()
    Path(f"{db}-wal").write_bytes(b"x" * 32)  # a log with rows in it: immutable would miss them
    assert read_mode(db) == "mode=ro"


# -- busy ------------------------------------------------------------------------------------


def hold(db: Path) -> sqlite3.Connection:
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_writer_open_waits_briefly_then_says_busy(tmp_path: Path) -> None:
    db = tmp_path / "catalogue.db"
    Catalogue(db).close()
    other = hold(db)
    try:
        with pytest.raises(CatalogueBusy) as busy:
            Catalogue(db, busy_seconds=0.2)
        assert (
            str(busy.value) == f"{db} is busy: another SQLite writer holds it (waited 0.2 s); try again when it is done"
        )
        Catalogue.reader(db).close()  # reading is not held up
    finally:
        other.rollback()
        other.close()


def test_a_write_while_another_writer_holds_the_file_says_busy(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "catalogue.db", busy_seconds=0.2)
    other = hold(tmp_path / "catalogue.db")
    try:
        with pytest.raises(CatalogueBusy):
            catalogue.start_run("full", "mps", "test", 1)
    finally:
        other.rollback()
        other.close()
    assert catalogue.start_run("full", "mps", "test", 1) == 1
    catalogue.close()


# -- runs ------------------------------------------------------------------------------------


def test_a_run_left_running_is_closed_as_failed_with_what_it_catalogued(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "catalogue.db")
    killed = catalogue.start_run("full", "/home/me/profiles/mine.toml", "test", 1)
    catalogue.upsert_article(ARTICLE, capture(catalogue, killed, 1), "2026-12-01T00:00:00Z")
    catalogue.commit()  # then kill -9: finish_run never runs
    following = catalogue.start_run("incremental", "mps", "test", 2)
    catalogue.close()
    db = tmp_path / "catalogue.db"
    assert query(db, "SELECT id, status, error_summary, articles_new, profile FROM runs ORDER BY id") == [
        (killed, "failed", KILLED, 1, "mine.toml"),
        (following, "running", None, 0, "mps"),
    ]
    assert query(db, "SELECT finished IS NOT NULL FROM runs WHERE id = ?", (killed,)) == [(1,)]


def test_finish_run_counts_articles_from_the_catalogue(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "catalogue.db")
    first = catalogue.start_run("full", "mps", "test", 1)
    catalogue.upsert_article(ARTICLE, capture(catalogue, first, 1), "2026-12-01T00:00:00Z")
    catalogue.finish_run(first, "ok", {"requests": 3})
    second = catalogue.start_run("full", "mps", "test", 1)
    catalogue.upsert_article({**ARTICLE, "body": "Edited."}, capture(catalogue, second, 2), "2026-12-02T00:00:00Z")
    catalogue.upsert_article({**ARTICLE, "id": "t2"}, capture(catalogue, second, 3), "2026-12-02T00:00:00Z")
    catalogue.finish_run(second, "failed", {"requests": 9, "articles_new": 0}, "the archive writer stopped")
    catalogue.close()
    assert query(tmp_path / "catalogue.db", "SELECT requests, articles_new, articles_updated FROM runs") == [
        (3, 1, 0),
        (9, 1, 1),
    ]


def test_copy_run_history_keeps_the_runs_reindex_cannot_see(tmp_path: Path, old: Path) -> None:
    rebuilt = Catalogue(tmp_path / "rebuilt.db")
    rebuilt.add_reindexed_run(1, "full", "mps", "test")
    assert rebuilt.copy_run_history(old) == 3
    rebuilt.close()
    assert query(tmp_path / "rebuilt.db", "SELECT id, status, articles_new FROM runs") == [
        (1, "ok", 11),
        (2, "ok", 2),
        (3, "ok", 0),
    ]


def test_a_pointer_outside_warc_is_refused(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "catalogue.db")
    run = catalogue.start_run("full", "mps", "test", 1)
    crafted = catalogue.add_capture(
        run, pointer(1, "../../outside.warc.gz"), url="http://x/", status=200, content_type=None, fetched_at="x"
    )
    with pytest.raises(CatalogueError, match="outside"):
        catalogue.capture(crafted)
    catalogue.close()


# -- the commands on such files (subprocesses) ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("args", [("verify", "--repair"), ("crawl", "--start-url", "http://127.0.0.1:9/x.html")])
def test_a_busy_catalogue_is_one_line_and_exit_75(old: Path, args: tuple[str, ...]) -> None:
    archive = old.parent
    other = hold(old)
    try:
        result = run_cli(args[0], "--archive", str(archive), *args[1:], timeout=60)
    finally:
        other.rollback()
        other.close()
    assert result.returncode == EXIT_BUSY
    assert (
        one_line(result)
        == f"portal-crawler: {old} is busy: another SQLite writer holds it (waited 5 s); try again when it is done"
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", [("show", "t1"), ("stats",), ("search", "x"), ("verify",), ("verify", "--repair")])
@pytest.mark.parametrize("kind", ["empty", "foreign"])
def test_commands_refuse_a_file_that_is_no_catalogue_and_leave_it(tmp_path: Path, command, kind: str) -> None:
    db = tmp_path / "catalogue.db"
    if kind == "empty":
        db.touch()
    else:
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        conn.commit()
        conn.close()
    before = db.read_bytes()
    result = run_cli(command[0], "--archive", str(tmp_path), *command[1:])
    assert result.returncode == EXIT_USAGE
    assert f"{db} is not a usable SQLite catalogue" in one_line(result)
    assert db.read_bytes() == before and files(tmp_path) == ["catalogue.db"]


@pytest.mark.slow
def test_crawl_does_not_add_its_tables_to_a_foreign_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "catalogue.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    result = run_cli("crawl", "--archive", str(tmp_path), "--start-url", "http://127.0.0.1:9/news.html")
    assert result.returncode == EXIT_USAGE and "other tables (invoices)" in one_line(result)
    assert query(db, "SELECT name FROM sqlite_master") == [("invoices",)]


@pytest.mark.slow
def test_show_refuses_a_crafted_pointer_outside_warc(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(ARCHIVE_0_1_0, archive)
    (tmp_path / "outside.warc.gz").write_bytes((archive / "warc").glob("*.warc.gz").__next__().read_bytes())
    conn = sqlite3.connect(archive / "catalogue.db")
    conn.execute("UPDATE captures SET warc_filename = '../../outside.warc.gz' WHERE article_id = 't10000'")
    conn.commit()
    conn.close()
    shown = run_cli("show", "t10000", "--html", "--archive", str(archive))
    assert shown.returncode == EXIT_USAGE and shown.stdout == ""
    assert "'../../outside.warc.gz'" in one_line(shown) and "outside" in one_line(shown)
    verified = run_cli("verify", "--archive", str(archive))
    bad = [line for line in verified.stderr.splitlines() if line.startswith("bad-pointer: ")]
    assert verified.returncode == 1 and bad and all("outside warc/" in line for line in bad)


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Iterator[tuple[Path, int | None]]:
    """The 0.1.0 archive (never migrated) with no write permission, and the user to read it as.

    chmod does not bind root: as root the commands run as `nobody` (setpriv), in a
    directory that user can reach.
    """
    user, base = None, tmp_path
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root, and no setpriv to read as another user")
        user, base = 65534, Path(tempfile.mkdtemp(dir="/tmp"))
        base.chmod(0o755)
    archive = base / "archive"
    shutil.copytree(ARCHIVE_0_1_0, archive)
    every = [archive, *archive.rglob("*")]
    for path in every:
        path.chmod(0o555 if path.is_dir() else 0o444)
    yield archive, user
    for path in every:
        path.chmod(0o755 if path.is_dir() else 0o644)
    if base != tmp_path:
        shutil.rmtree(base)


@pytest.mark.slow
def test_a_read_only_archive_can_be_consulted(read_only_copy: tuple[Path, int | None]) -> None:
    archive, user = read_only_copy
    listing = sorted(p.name for p in archive.iterdir())
    for command in [("show", "t10000"), ("show", "t10000", "--html"), ("search", "laos"), ("export",), ("stats",)]:
        result = run_cli(command[0], "--archive", str(archive), *command[1:], user=user)
        assert result.returncode == 0 and result.stdout, (command, result.stderr)
        assert "portal-crawler:" not in result.stderr and "Traceback" not in result.stderr, (command, result.stderr)
    verified = run_cli("verify", "--archive", str(archive), "--summary", user=user)
    assert verified.returncode == 0 and verified.stdout.rstrip().endswith(": ok"), verified.stderr
    assert sorted(p.name for p in archive.iterdir()) == listing  # no -shm, no lock, no backup could be made
    repair = run_cli("verify", "--repair", "--archive", str(archive), user=user)
    assert repair.returncode == EXIT_USAGE and "archive lock" in one_line(repair)


def test_a_full_disk_under_the_catalogue_is_the_oserror_a_warc_write_meets(tmp_path) -> None:
    import errno
    import sqlite3

    from portal_crawler.catalogue.connection import guarded

    class Full:
        path, busy_seconds = tmp_path / "catalogue.db", 1.0

        @guarded
        def commit(self) -> None:
            raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(OSError) as raised:
        Full().commit()
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "catalogue.db")
