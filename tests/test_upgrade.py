"""An archive made by release 0.1.0 opens with this release, is migrated in place after a backup, and works.

The fixture (tests/data/archive-0.1.0, see its README) was crawled from a replica
on port 34489; the crawls here run against the same replica state on another
port, which must not make a single new version.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ARCHIVE_0_1_0, query, run_cli

from portal_crawler.catalogue import Catalogue
from portal_crawler.replica import Replica, ReplicaConfig

pytestmark = pytest.mark.slow
COUNTS = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM versions), (SELECT count(*) FROM captures)"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    shutil.copytree(ARCHIVE_0_1_0, tmp_path / "archive")
    return tmp_path / "archive"


@pytest.fixture
def replica() -> Iterator[Replica]:
    """The replica as the fixture's last run saw it: seed 3, six articles, two added, t10000 edited."""
    served = Replica(ReplicaConfig(articles=6, layout="legacy", seed=3, port=0)).start()
    served.add_articles(2)
    served.edit_article("t10000")
    yield served
    served.stop()


def read_commands_work(archive: Path) -> None:
    found = run_cli("search", "laos", "--archive", str(archive), "--json")
    assert found.returncode == 0, found.stderr
    assert {"t10000", "t10002"} <= {hit["id"] for hit in json.loads(found.stdout)}
    shown = run_cli("show", "t10000", "--archive", str(archive))
    assert shown.returncode == 0 and "Version:   2" in shown.stdout, shown.stderr
    page = run_cli("show", "t10000", "--html", "--archive", str(archive))
    assert page.returncode == 0 and "<html" in page.stdout.lower(), page.stderr
    verified = run_cli("verify", "--archive", str(archive), "--summary")
    assert verified.returncode == 0 and verified.stdout.rstrip().endswith(": ok"), verified.stdout + verified.stderr


def test_read_commands_work_on_the_0_1_0_archive_without_migrating_it(archive: Path) -> None:
    before = (archive / "catalogue.db").read_bytes()
    read_commands_work(archive)
    assert (archive / "catalogue.db").read_bytes() == before  # read opens never migrate
    assert not list(archive.glob("catalogue.db.bak-schema-*"))


def test_a_writer_open_migrates_in_place_after_a_backup(archive: Path) -> None:
    before = query(archive / "catalogue.db", COUNTS)
    Catalogue(archive / "catalogue.db").close()
    assert query(archive / "catalogue.db.bak-schema-1", "PRAGMA user_version") == [(1,)]
    assert query(archive / "catalogue.db.bak-schema-1", COUNTS) == before == [(13, 14, 63)]
    assert query(archive / "catalogue.db", "PRAGMA user_version") == [(3,)]
    assert query(archive / "catalogue.db", COUNTS) == before
    read_commands_work(archive)
    stats = run_cli("stats", "--archive", str(archive))
    assert stats.returncode == 0 and "runs: 3 (ok 3)" in stats.stdout, stats.stdout + stats.stderr


def test_crawls_from_another_port_add_no_version(archive: Path, replica: Replica) -> None:
    assert replica.port != 34489
    incremental = run_cli("crawl", "--archive", str(archive), "--start-url", replica.listing_url)
    assert incremental.returncode == 0, incremental.stderr
    assert list(archive.glob("catalogue.db.bak-schema-1"))  # the crawl's writer open migrated it, after a backup
    full = run_cli("crawl", "--full", "--archive", str(archive), "--start-url", replica.listing_url)
    assert full.returncode == 0, full.stderr
    db = archive / "catalogue.db"
    assert query(db, "SELECT count(*) FROM versions") == [(14,)]
    assert query(
        db, "SELECT mode, status, articles_new, articles_updated, articles_unchanged FROM runs WHERE id > 3"
    ) == [
        ("incremental", "ok", 0, 0, 0),
        ("full", "ok", 0, 0, 13),
    ]
    assert query(db, "SELECT count(*) FROM captures WHERE url LIKE ?", (f"%:{replica.port}/%",))[0][0] > 13
    verified = run_cli("verify", "--archive", str(archive))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_reindex_of_the_0_1_0_archive(archive: Path) -> None:
    before = query(archive / "catalogue.db", "SELECT article_id, version, title FROM versions ORDER BY 1, 2")
    rebuilt = run_cli("reindex", "--archive", str(archive))
    assert rebuilt.returncode == 0, rebuilt.stderr
    db = archive / "catalogue.db"
    assert query(db, "PRAGMA user_version") == [(3,)]
    assert query(db, "SELECT article_id, version, title FROM versions ORDER BY 1, 2") == before
    read_commands_work(archive)
    stats = run_cli("stats", "--archive", str(archive))
    assert stats.returncode == 0 and "  failed: " not in stats.stdout, stats.stdout  # reindexed runs did not fail
