"""Opening catalogue.db: for writing (creating or upgrading it) or for reading only, and refusing what is not one.

A file is looked at before SQLite opens it for writing, so a 0-byte file, a
file that is not SQLite, or a SQLite file holding someone else's tables is
refused with one line and left exactly as it was. A reader opens with
`mode=ro`, or `immutable=1` where the file or its directory cannot be written
(a read-only mount, where SQLite could not even create its `-shm`): it never
creates, migrates or changes anything. Another SQLite writer holding the file
is waited for `BUSY_SECONDS`, then reported as `CatalogueBusy` (exit 75).
"""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from portal_crawler.core.errors import ArchiveBusy, UsageProblem

BUSY_SECONDS = 5.0  # how long a writer waits for another SQLite writer before giving up
SQLITE_HEADER = b"SQLite format 3\x00"
OURS = ("articles", "captures", "runs")


class CatalogueError(UsageProblem):
    """The catalogue cannot be opened or used; the message (one line) names the file and says why."""


class CatalogueBusy(ArchiveBusy):
    """Another SQLite writer holds the catalogue (exit 75: try again later)."""

    def __init__(self, path: Path, seconds: float) -> None:
        super().__init__(
            f"{path} is busy: another SQLite writer holds it (waited {seconds:g} s); try again when it is done"
        )


def not_usable(path: Path, why: str) -> CatalogueError:
    return CatalogueError(f"{path} is not a usable SQLite catalogue: {why}")


def is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in str(error)


def check_file(path: Path) -> None:
    """Refuse an empty file or one that is not SQLite, by its first bytes (nothing is written)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise CatalogueError(f"{path} is a directory, not a catalogue file") from None
    except OSError as error:
        raise CatalogueError(f"cannot read {path}: {error.strerror or error}") from None
    if not head:
        raise not_usable(path, "the file is empty (0 bytes); move it away to start a new catalogue")
    if head != SQLITE_HEADER:
        raise not_usable(path, "the file is not a SQLite database")


def check_tables(conn: sqlite3.Connection, path: Path, *, empty_ok: bool) -> None:
    """Refuse a SQLite file that holds other tables than a catalogue's (or none, unless `empty_ok`)."""
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise not_usable(path, str(error)) from None
    if all(name in tables for name in OURS) or (empty_ok and not tables):
        return
    if not tables:
        raise not_usable(path, "it holds no tables (run 'portal-crawler crawl' to start an archive)")
    others = ", ".join(sorted(tables)[:5])
    raise not_usable(path, f"it holds other tables ({others}), not a catalogue's {'/'.join(OURS)}")


def _uri(path: Path, query: str) -> str:
    return f"{Path(path).resolve().as_uri()}?{query}"


def connect_writer(path: Path, busy_seconds: float) -> sqlite3.Connection:
    """An existing catalogue file opened read-write (never created here), in WAL mode, checked to be ours."""
    check_file(path)
    try:
        conn = sqlite3.connect(_uri(path, "mode=rw"), uri=True, timeout=busy_seconds)
    except sqlite3.Error as error:
        raise not_usable(path, str(error)) from None
    try:
        check_tables(conn, path, empty_ok=True)
        _wal_and_write_lock(conn, path, busy_seconds)
    except BaseException:
        conn.close()
        raise
    return conn


def _wal_and_write_lock(conn: sqlite3.Connection, path: Path, busy_seconds: float) -> None:
    """WAL mode, then take and drop the write lock once, so a busy file is refused now rather than mid-run."""
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if is_busy(error):
            raise CatalogueBusy(path, busy_seconds) from None
        raise not_usable(path, str(error)) from None


def create_file(path: Path, build: Callable[[sqlite3.Connection], None]) -> None:
    """A new catalogue built under a scratch name and renamed into place: never a half-made file at `path`."""
    scratch = path.with_name(path.name + ".new")
    for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
        leftover.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(scratch)
    except sqlite3.Error as error:
        raise CatalogueError(f"cannot create {path}: {error}") from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        build(conn)
    finally:
        conn.close()
    fd = os.open(scratch, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(scratch, path)


def read_mode(path: Path) -> str:
    """`immutable=1` where the file or its directory cannot be written (and no WAL holds rows), else `mode=ro`.

    An immutable open reads the database file alone, so it is chosen only when
    there is no write-ahead log with content that it would miss.
    """
    writable = os.access(path.parent, os.W_OK) and os.access(path, os.W_OK)
    wal = Path(f"{path}-wal")
    if not writable and not (wal.exists() and wal.stat().st_size > 0):
        return "immutable=1"
    return "mode=ro"


def connect_reader(path: Path, busy_seconds: float) -> sqlite3.Connection:
    """A read-only connection; refuses a file that is not a catalogue."""
    if not path.exists():
        raise CatalogueError(f"no catalogue at {path} (run 'portal-crawler crawl' first, or pass --archive)")
    check_file(path)
    try:
        conn = sqlite3.connect(_uri(path, read_mode(path)), uri=True, timeout=busy_seconds)
    except sqlite3.Error as error:
        raise not_usable(path, str(error)) from None
    try:
        check_tables(conn, path, empty_ok=False)
    except BaseException:
        conn.close()
        raise
    return conn


F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """A catalogue write: another writer holding the file becomes CatalogueBusy, a read-only open a clear
    error, a full disk the OSError (ENOSPC) that a WARC write meets on it, so both are said the same way."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as error:
            if is_busy(error):
                raise CatalogueBusy(self.path, self.busy_seconds) from None
            code = getattr(error, "sqlite_errorcode", None)
            if code == sqlite3.SQLITE_READONLY or "readonly" in str(error):
                raise CatalogueError(f"{self.path} is open for reading only; cannot write: {error}") from None
            if code == sqlite3.SQLITE_FULL or "disk is full" in str(error):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path)) from None
            raise

    return cast(F, wrapper)
