"""Crawls of the 2025+ portal (`replica --layout app`): the JSON API as a source, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import ARTICLE_COLUMNS, CAPTURE_COLUMNS, VERSION_COLUMNS, crawl, expected_seeds, fold, rows, run_cli
from warcio.archiveiterator import ArchiveIterator

pytestmark = pytest.mark.slow  # crawls of the replica in subprocesses

API = "/backend-portal/articles"


def served(counts: dict[str, int]) -> dict[str, int]:
    return {t: n for t, n in counts.items() if n}


def listing_requests(counts: dict[str, int]) -> list[str]:
    return [t for t in counts if urlsplit(t).path == f"{API}/search"]


@pytest.fixture(scope="module")
def app_archive(tmp_path_factory: pytest.TempPathFactory):
    """One full crawl of an app replica (60 articles and the seeds) from its HTML start page."""
    from portal_crawler.replica import Replica, ReplicaConfig

    archive = tmp_path_factory.mktemp("api") / "archive"
    with Replica(ReplicaConfig(articles=60, layout="app", seed=5, port=0)) as replica:
        first = crawl(archive, replica.listing_url)
        assert first.returncode == 0, first.stdout + first.stderr
        yield archive, replica, first


def test_a_full_crawl_catalogues_every_article_from_the_api_with_exact_fields(app_archive) -> None:
    archive, replica, first = app_archive
    db = archive / "catalogue.db"
    catalogued = rows(db, "SELECT * FROM articles")
    assert sorted(r["id"] for r in catalogued) == sorted(a.id for a in replica.articles())
    assert {r["template"] for r in catalogued} == {"api"}
    by_title = {r["title"]: r for r in catalogued}
    for seed in expected_seeds():
        row = by_title[seed["title"]]
        assert (row["published"], row["author"], row["quality"]) == (seed["published"], seed["author"], "ok")
        assert [fold(p) for p in row["body"].split("\n\n")] == [fold(p) for p in seed["paragraphs"]]
        assert [fold(c) for c in json.loads(row["captions"])] == [fold(c) for c in seed["captions"]]
        assert len(json.loads(row["images"])) >= len(seed["captions"])  # every captioned photo, at least
        assert urlsplit(row["url"]).path.startswith("/article/")  # the reader's page, not the API's URL
    assert "65 new" in first.stdout


def test_the_archive_holds_api_answers_with_their_portal_id_and_the_pages_readers_saw(app_archive) -> None:
    archive, replica, _ = app_archive
    db = archive / "catalogue.db"
    captures = rows(db, "SELECT url, status, warc_filename, warc_offset FROM captures")
    paths = [urlsplit(c["url"]).path for c in captures]
    article = replica.articles()[0]
    assert article.url_path in paths  # the shell a reader loads
    assert "/js/portal-app.js" in paths and any(p.startswith("/uploads/") for p in paths)
    answer = next(c for c in captures if urlsplit(c["url"]).path == f"{API}/search")
    with open(archive / "warc" / answer["warc_filename"], "rb") as stream:
        asked = [
            r.http_headers.get_header("Portal-Id")
            for r in ArchiveIterator(stream)
            if r.rec_type == "request" and r.rec_headers.get_header("WARC-Target-URI") == answer["url"]
        ]
    assert asked == ["28"]  # the request record says what chose the answer
    shell = rows(db, "SELECT COUNT(*) AS n FROM captures WHERE url LIKE '%/article/%' AND article_id IS NULL")
    assert shell[0]["n"] == len(replica.articles())  # shells are kept, never catalogued as articles


def test_nothing_new_costs_robots_and_one_api_listing_request(app_archive) -> None:
    archive, replica, _ = app_archive
    replica.reset_counts()
    result = crawl(archive, replica.listing_url, extra=())
    assert result.returncode == 0, result.stderr
    counts = served(replica.counts())
    assert sum(counts.values()) <= 2, counts
    assert "/robots.txt" in counts and len(listing_requests(counts)) == 1
    assert "0 new" in result.stdout


def test_fifteen_new_articles_cost_those_fifteen_and_two_listing_answers(app_archive) -> None:
    archive, replica, _ = app_archive
    added = replica.add_articles(15)
    replica.reset_counts()
    result = crawl(archive, replica.listing_url, extra=())
    assert result.returncode == 0, result.stderr
    counts = served(replica.counts())
    paths = {urlsplit(t).path for t in counts}
    details = {p for p in paths if p.startswith(f"{API}/") and p != f"{API}/search"}
    assert details == {f"{API}/{replica.api_id(a.id)}" for a in added}
    assert {p for p in paths if p.startswith("/article/")} == {a.url_path for a in added}
    assert {p for p in paths if p.startswith("/uploads/")} == {img for a in added for img in a.images}
    assert len(listing_requests(counts)) <= 2 and all(n == 1 for n in counts.values())
    assert "15 new" in result.stdout


def test_an_edit_is_version_2_through_a_conditional_detail_request(app_archive) -> None:
    archive, replica, _ = app_archive
    edited = replica.articles()[3].id
    replica.edit_article(edited)
    replica.reset_counts()
    result = crawl(archive, replica.listing_url, extra=("--recheck-days", "36500"))
    assert result.returncode == 0, result.stderr
    db = archive / "catalogue.db"
    assert rows(db, "SELECT version FROM articles WHERE id = ?", (edited,)) == [{"version": 2}]
    run = rows(db, "SELECT MAX(run_id) AS run FROM captures")[0]["run"]
    not_modified = rows(db, "SELECT COUNT(*) AS n FROM captures WHERE run_id = ? AND status = 304", (run,))
    assert not_modified[0]["n"] > 50  # the others answered 304 to If-None-Match


def test_a_deleted_article_is_marked_gone_by_a_full_run(app_archive) -> None:
    archive, replica, _ = app_archive
    deleted = replica.articles()[7].id
    replica.delete_article(deleted)
    result = crawl(archive, replica.listing_url, extra=("--full",))
    assert result.returncode == 0, result.stderr
    row = rows(archive / "catalogue.db", "SELECT gone_since FROM articles WHERE id = ?", (deleted,))
    assert row and row[0]["gone_since"]


def test_reindex_rebuilds_the_same_catalogue_and_verify_passes(app_archive, tmp_path: Path) -> None:
    archive, _, _ = app_archive
    assert run_cli("verify", "--archive", str(archive)).returncode == 0
    rebuilt = tmp_path / "rebuilt.db"
    result = run_cli("reindex", "--archive", str(archive), "--catalogue", str(rebuilt))
    assert result.returncode == 0, result.stderr
    original = archive / "catalogue.db"
    for sql in (
        f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY id",
        f"SELECT {VERSION_COLUMNS} FROM versions ORDER BY article_id, version",
        f"SELECT {CAPTURE_COLUMNS} FROM captures ORDER BY id",
    ):
        assert rows(rebuilt, sql) == rows(original, sql), sql
    assert len(rows(rebuilt, "SELECT id FROM articles WHERE template = 'api'")) >= 80


def test_a_bad_answer_is_retried_and_a_run_of_them_is_the_drift_alarm(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="app")
    once = tmp_path / "once"
    replica.set_faults(api_not_json=1)  # the first API request: the listing's first page
    result = crawl(once, replica.listing_url, extra=("--source", "api"))
    assert result.returncode == 0, result.stdout + result.stderr  # retried once, then read
    assert len(rows(once / "catalogue.db", "SELECT id FROM articles")) == 25
    broken = tmp_path / "broken"
    replica.set_faults(api_no_items=2)  # the answer and its retry
    result = crawl(broken, replica.listing_url, extra=("--source", "api"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "layout drift" in result.stderr and "API listing" in result.stderr
    assert rows(broken / "catalogue.db", "SELECT COUNT(*) AS n FROM articles")[0]["n"] == 0
    status = rows(broken / "catalogue.db", "SELECT status, errors FROM runs")[0]
    assert status["status"] == "errors" and status["errors"] >= 1


def test_api_base_points_the_walk_at_another_host(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=5, layout="app")
    archive = tmp_path / "archive"
    start = replica.listing_url.replace("127.0.0.1", "localhost")
    result = crawl(archive, start, extra=("--source", "api", "--api-base", replica.base_url))
    assert result.returncode == 0, result.stdout + result.stderr
    urls = [r["url"] for r in rows(archive / "catalogue.db", "SELECT url FROM captures")]
    assert any(u.startswith(replica.base_url + API) for u in urls)


def test_an_incapsula_wall_in_front_of_the_api_stops_the_run_with_exit_4(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="app", drift="challenge", challenge_kind="incapsula")
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url, extra=("--source", "api"))
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "blocked" in result.stderr
    db = archive / "catalogue.db"
    assert rows(db, "SELECT COUNT(*) AS n FROM articles")[0]["n"] == 0
    kept = rows(db, "SELECT COUNT(*) AS n FROM captures WHERE url LIKE '%/backend-portal/%'")[0]["n"]
    assert kept >= 1  # every wall answer is archived as it came
