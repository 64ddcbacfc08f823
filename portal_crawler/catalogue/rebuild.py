"""Building a catalogue from scratch beside the live one, and swapping it in: reindex's catalogue writes.

The new catalogue is a scratch file written without a journal (it is thrown
away on any failure), its FTS and secondary indexes built once at the end, and
made durable (WAL, FULL) before the swap. The old catalogue's run history is
copied over, since the WARC files only know each run's ID, mode and profile.
Before the swap the old file must be free: a foreign SQLite writer holding it
(a sqlite3 shell, a script) would otherwise write into the file moved aside.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from portal_crawler.catalogue.store import Catalogue
from portal_crawler.core.errors import ArchiveBusy

BUSY_WAIT_S = 2.0  # how long to wait for another SQLite writer before refusing
SIDE_FILES = ("-wal", "-shm", "-journal")


def scratch_path(catalogue_path: Path) -> Path:
    return Path(catalogue_path).with_name(Path(catalogue_path).name + ".reindex")


def remove_scratch(scratch: Path) -> None:
    """The scratch catalogue and its side files, whatever state they are in."""
    for path in (scratch, *(Path(f"{scratch}{suffix}") for suffix in SIDE_FILES)):
        path.unlink(missing_ok=True)


def open_scratch(scratch: Path) -> Catalogue:
    """An empty catalogue for a bulk load: no journal, no syncs, no FTS triggers, no secondary indexes."""
    remove_scratch(scratch)
    catalogue = Catalogue(scratch)
    catalogue.commit()
    catalogue.conn.execute("PRAGMA journal_mode=OFF")
    catalogue.conn.execute("PRAGMA synchronous=OFF")
    catalogue.conn.execute("PRAGMA cache_size=-262144")  # 256 MB of page cache
    catalogue.disable_search()  # filled once at the end: far cheaper than a trigger per row
    catalogue.drop_indexes()
    return catalogue


def finish_scratch(catalogue: Catalogue) -> None:
    """Indexes and search built, runs known only from WARC dated by their captures, made durable, closed."""
    catalogue.enable_search()
    catalogue.build_indexes()
    catalogue.conn.execute(
        "UPDATE runs SET started = (SELECT MIN(fetched_at) FROM captures WHERE run_id = runs.id),"
        " finished = (SELECT MAX(fetched_at) FROM captures WHERE run_id = runs.id) WHERE status = 'reindexed'"
    )
    catalogue.commit()
    catalogue.conn.execute("PRAGMA journal_mode=WAL")
    catalogue.conn.execute("PRAGMA synchronous=FULL")
    catalogue.close()


def copy_runs(catalogue: Catalogue, old_path: Path) -> set[int]:
    """Every row of the old catalogue's runs table (the columns both schemas have); the IDs copied.

    An old catalogue that is missing or unreadable gives nothing: the runs are
    then known only from the warcinfo records (`note_run`).
    """
    if not Path(old_path).is_file():
        return set()
    try:
        old = sqlite3.connect(f"{Path(old_path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            cursor = old.execute("SELECT * FROM runs")
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        finally:
            old.close()
    except sqlite3.DatabaseError:
        return set()
    columns = [name for name in names if name in set(catalogue.db["runs"].columns_dict)]
    picks = [names.index(name) for name in columns]
    catalogue.conn.executemany(
        f"INSERT OR REPLACE INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[row[i] for i in picks] for row in rows],
    )
    return {row[names.index("id")] for row in rows} if "id" in names else set()


def note_run(catalogue: Catalogue, run_id: int, mode: str, profile: str | None, software_version: str) -> None:
    """A run known only from its warcinfo records: status 'reindexed', dated by its captures at the end."""
    catalogue.conn.execute(
        "INSERT OR IGNORE INTO runs (id, started, status, mode, profile, software_version)"
        " VALUES (?, '', 'reindexed', ?, ?, ?)",
        (run_id, mode, profile, software_version),
    )


def claim_for_swap(catalogue_path: Path, wait_s: float = BUSY_WAIT_S) -> None:
    """Make sure no other SQLite connection is writing the old catalogue, and fold its WAL into the file.

    Raises ArchiveBusy when a write lock is held past `wait_s`. A file that is
    not an SQLite database at all (what reindex may be run to replace) is let go.
    """
    path = Path(catalogue_path)
    if not path.exists():
        return
    conn = sqlite3.connect(path, timeout=wait_s)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.rollback()
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise ArchiveBusy(f"another SQLite connection is writing {path}; try again when it is done") from None
        return
    except sqlite3.DatabaseError:
        return
    finally:
        conn.close()
    if busy:
        raise ArchiveBusy(f"another SQLite connection is reading or writing {path}; try again when it is done")


def swap_in(scratch: Path, catalogue_path: Path) -> None:
    """The new catalogue in place of the old one, which is kept as `catalogue.db.bak`."""
    path = Path(catalogue_path)
    if path.exists():
        for suffix in SIDE_FILES[:2]:  # empty after the checkpoint; they must not meet the new file
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(path, path.with_name(path.name + ".bak"))
    os.replace(scratch, path)
