"""reindex rebuilds the catalogue from WARC alone; show --html gives the served bytes."""

from __future__ import annotations

import gzip
import urllib.request
from pathlib import Path

import pytest
from helpers import crawl, rows, run_cli

ARTICLE_COLUMNS = "id, url, title, published, author, summary, body, captions, images, section, template, quality, problems, content_hash, first_seen, last_seen, version, capture_id"
VERSION_COLUMNS = "article_id, version, content_hash, captured_at, capture_id, url, title, published, author, summary, body, captions, images, template, quality"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory):
    """Two full runs of a replica (one article edited between them), then a recheck run after a deletion."""
    from portal_crawler.replica import Replica, ReplicaConfig

    archive = tmp_path_factory.mktemp("reindex") / "archive"
    with Replica(ReplicaConfig(articles=40, layout="legacy", seed=3, port=0)) as replica:
        assert crawl(archive, replica.listing_url).returncode == 0
        edited = replica.articles()[5]
        replica.edit_article(edited.id)
        second = crawl(archive, replica.listing_url)
        assert second.returncode == 0, second.stderr
        replica.delete_article(replica.articles()[30].id)
        third = crawl(archive, replica.listing_url, extra=("--recheck-days", "36500"))
        assert third.returncode == 0, third.stderr
        yield archive, replica, edited.id


def test_second_run_records_the_edit_as_version_2(two_runs) -> None:
    archive, _, edited = two_runs
    db = archive / "catalogue.db"
    assert rows(db, "SELECT version FROM articles WHERE id = ?", (edited,)) == [{"version": 2}]
    assert rows(db, "SELECT COUNT(*) AS n FROM articles WHERE version > 1")[0]["n"] == 1
    assert rows(db, "SELECT COUNT(*) AS n FROM captures WHERE record_type = 'revisit'")[0]["n"] > 40
    assert rows(db, "SELECT COUNT(*) AS n FROM captures WHERE status = 304")[0]["n"] > 30
    assert rows(db, "SELECT COUNT(*) AS n FROM articles WHERE gone_since IS NOT NULL")[0]["n"] == 1


def test_reindex_rebuilds_identical_articles_and_versions(two_runs, tmp_path: Path) -> None:
    archive, _, _ = two_runs
    rebuilt = tmp_path / "rebuilt.db"
    result = run_cli("reindex", "--archive", str(archive), "--catalogue", str(rebuilt))
    assert result.returncode == 0, result.stderr
    original = archive / "catalogue.db"
    for sql in (
        f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY id",
        f"SELECT {VERSION_COLUMNS} FROM versions ORDER BY article_id, version",
        "SELECT id, url, status, warc_filename, warc_offset, warc_record_id, record_type, payload_digest, article_id FROM captures ORDER BY id",
    ):
        assert rows(rebuilt, sql) == rows(original, sql), sql
    assert len(rows(rebuilt, "SELECT id FROM articles")) == 45
    fts = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'security' ORDER BY rowid"
    assert rows(rebuilt, fts) == rows(original, fts) and rows(rebuilt, fts)


def test_show_html_is_the_served_page_of_each_version(two_runs) -> None:
    archive, replica, edited = two_runs
    served = urllib.request.urlopen(replica.article_url(edited)).read()
    latest = run_cli("show", "--archive", str(archive), edited, "--html")
    assert latest.returncode == 0 and latest.stdout.encode() == served
    first = run_cli("show", "--archive", str(archive), edited, "--html", "--version", "1")
    assert first.returncode == 0 and first.stdout.encode() != served
    text_v1 = run_cli("show", "--archive", str(archive), edited, "--version", "1")
    assert "Version:   1" in text_v1.stdout


def test_show_html_of_gzip_served_page_is_decoded(two_runs) -> None:
    archive, replica, _ = two_runs
    seed = "t6294"
    request = urllib.request.Request(replica.article_url(seed), headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as answer:
        assert answer.headers["Content-Encoding"] == "gzip"
        served = gzip.decompress(answer.read())
    shown = run_cli("show", "--archive", str(archive), seed, "--html")
    assert shown.stdout.encode() == served


@pytest.mark.parametrize(
    "args, message",
    [
        (("show", "t0"), "no article 't0'"),
        (("show", "t6294", "--version", "9"), "has versions 1 to"),
    ],
)
def test_show_bad_input_is_one_line(two_runs, args, message) -> None:
    archive, _, _ = two_runs
    result = run_cli(args[0], "--archive", str(archive), *args[1:])
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
