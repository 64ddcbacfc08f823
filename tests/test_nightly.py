"""Nightly runs: cheap incremental crawls, versions and gone articles, the lock, faults, offsite safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import crawl, rows, run_cli, wait_unlocked

pytestmark = pytest.mark.slow  # crawls of the replica in subprocesses

INCREMENTAL: tuple[str, ...] = ()


def served(counts: dict[str, int]) -> dict[str, int]:
    return {t: n for t, n in counts.items() if n}


@pytest.fixture
def archived(tmp_path: Path, replica_factory):
    """A replica of 200 articles, archived once by a full run; request counts reset."""
    replica = replica_factory(articles=200, layout="legacy", seed=11)
    archive = tmp_path / "archive"
    first = crawl(archive, replica.listing_url)
    assert first.returncode == 0, first.stderr
    replica.reset_counts()
    return archive, replica


def test_nothing_new_costs_robots_and_one_listing_page(archived) -> None:
    archive, replica = archived
    result = crawl(archive, replica.listing_url, extra=INCREMENTAL)
    assert result.returncode == 0, result.stderr
    counts = served(replica.counts())
    assert sum(counts.values()) <= 3, counts
    assert "/robots.txt" in counts and "/news-and-events.html" in counts
    assert "0 new" in result.stdout


def test_fifteen_new_articles_fetch_exactly_those(archived) -> None:
    archive, replica = archived
    added = replica.add_articles(15)
    result = crawl(archive, replica.listing_url, extra=INCREMENTAL)
    assert result.returncode == 0, result.stderr
    counts = served(replica.counts())
    paths = {urlsplit(t).path: n for t, n in counts.items()}
    article_paths = {p for p in paths if p.startswith("/news-events/")}
    assert article_paths == {a.url_path for a in added}
    images = {img for a in added for img in a.images}
    assert {p for p in paths if p.startswith("/Uploads/")} == images
    assert len([t for t in counts if t.startswith("/news-and-events.html")]) <= 3
    assert all(n == 1 for n in counts.values())
    assert "15 new" in result.stdout


def test_edit_gives_version_2_and_delete_marks_gone(archived) -> None:
    archive, replica = archived
    edited, deleted = replica.articles()[2].id, replica.articles()[4].id
    replica.edit_article(edited)
    replica.delete_article(deleted)
    result = crawl(archive, replica.listing_url, extra=("--recheck-days", "36500"))
    assert result.returncode == 0, result.stderr
    db = archive / "catalogue.db"
    assert rows(db, "SELECT version FROM articles WHERE id = ?", (edited,)) == [{"version": 2}]
    assert [r["version"] for r in rows(db, "SELECT version FROM versions WHERE article_id = ?", (edited,))] == [1, 2]
    assert "Update" in run_cli("show", "--archive", str(archive), edited).stdout
    assert "Update" not in run_cli("show", "--archive", str(archive), edited, "--version", "1").stdout
    not_modified = rows(db, "SELECT COUNT(*) AS n FROM captures WHERE run_id = 2 AND status = 304")[0]["n"]
    assert not_modified > 150
    gone = crawl(archive, replica.listing_url, extra=("--full",))
    assert gone.returncode == 0, gone.stderr
    row = rows(db, "SELECT gone_since FROM articles WHERE id = ?", (deleted,))
    assert row and row[0]["gone_since"]


def test_a_second_run_exits_75_and_a_killed_run_leaves_no_lock(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=60, layout="legacy")
    replica.set_faults(slow={"seconds": 0.3})
    archive = tmp_path / "archive"
    env = {**os.environ, "PORTAL_FAST": "1"}
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal_crawler",
            "crawl",
            "--archive",
            str(archive),
            "--start-url",
            replica.listing_url,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock = archive / "lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        second = crawl(archive, replica.listing_url, extra=INCREMENTAL)
        assert second.returncode == 75
        assert f"pid {first.pid}" in second.stderr and len(second.stderr.strip().splitlines()) == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    wait_unlocked(archive)
    replica.set_faults()
    after = crawl(archive, replica.listing_url, extra=INCREMENTAL)
    assert after.returncode == 0, after.stderr
    assert len(rows(archive / "catalogue.db", "SELECT id FROM articles")) == 65


def test_faults_end_archived_or_fetched_by_the_next_run(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=80, layout="legacy", seed=13)
    ids = [a.id for a in replica.articles()]
    replica.set_faults(
        error_first={"status": 503, "times": 2, "pattern": r"-t1000[0-4]\.html", "retry_after": 1},
        slow={"seconds": 3, "times": 1, "pattern": r"-t1001[0-4]\.html"},
        cut={"times": 1, "pattern": r"-t1002[0-4]\.html"},
        malformed={"pattern": r"-t1003[0-4]\.html"},
    )
    archive = tmp_path / "archive"
    first = crawl(archive, replica.listing_url, extra=("-s", "DOWNLOAD_TIMEOUT=1"))
    assert first.returncode == 0, first.stdout + first.stderr  # 503s, timeouts and cuts are retried in the run
    db = archive / "catalogue.db"
    got = {r["id"]: r for r in rows(db, "SELECT id, quality, body FROM articles")}
    assert set(got) == set(ids)
    for article_id in ("t10020", "t10021", "t10022"):
        assert got[article_id]["quality"] == "ok" and len(got[article_id]["body"]) > 200
    first_run = rows(db, "SELECT * FROM runs ORDER BY id")[0]
    assert first_run["errors"] == 0
    retried = rows(db, "SELECT url, status FROM captures WHERE status = 503")
    assert len(retried) == 10


def test_oversized_page_is_refused_and_logged(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="legacy")
    huge = replica.articles()[1].id
    replica.set_faults(huge=[huge])
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url, extra=("-s", "DOWNLOAD_MAXSIZE=2000000"))
    assert result.returncode == 1 and "1 errors" in result.stdout
    assert huge not in {r["id"] for r in rows(archive / "catalogue.db", "SELECT id FROM articles")}
    log = next((archive / "logs").glob("*.log")).read_text()
    assert "max size" in log.lower() or "maxsize" in log.lower()


def test_offsite_links_and_redirects_are_never_followed(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="legacy")
    replica.set_faults(offsite_link=True, redirect_offsite=True)
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url, replica.base_url + "/go-away")
    db = archive / "catalogue.db"
    urls = [r["url"] for r in rows(db, "SELECT url FROM captures")]
    assert urls and not any("example.invalid" in u for u in urls)
    assert any(u.endswith("/go-away") for u in urls)
    log = next((archive / "logs").glob("*.log")).read_text()
    assert "'offsite/filtered': 1" in log and "'offsite/domains': 1" in log
    assert len(rows(db, "SELECT id FROM articles")) == 25
    assert result.returncode == 0, result.stderr


def test_robots_disallow_is_honoured(tmp_path: Path, replica_factory) -> None:
    import tomllib
    from importlib import resources

    profile = (resources.files("portal_crawler.profiles") / "mps.toml").read_text()
    assert tomllib.loads(profile)["urls"]["deny"]
    open_profile = tmp_path / "nodeny.toml"
    open_profile.write_text(profile.replace("deny = ['^/Admin/', '^/search']", "deny = []"))
    replica = replica_factory(articles=5, layout="legacy")
    archive = tmp_path / "archive"
    crawl(
        archive,
        replica.base_url + "/search?keyword=police",
        replica.listing_url,
        extra=("--profile", str(open_profile)),
    )
    counts = replica.counts()
    assert not any(t.startswith("/search") for t in counts)
    assert "/robots.txt" in counts
    log = next((archive / "logs").glob("*.log")).read_text()
    assert "Forbidden by robots.txt" in log
