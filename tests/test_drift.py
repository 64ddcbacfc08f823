"""Never silent: a run on a portal whose markup drifted from the profile archives everything, then exits 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import crawl, fold, rows, run_cli

pytestmark = pytest.mark.slow


def _stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def _author(byline: str | None) -> str:
    """The replica's byline as the catalogue keeps an author: no leading "By"."""
    text = fold(byline)
    return text[3:] if text.lower().startswith("by ") else text


def _last_run(archive: Path) -> dict:
    return rows(archive / "catalogue.db", "SELECT * FROM runs ORDER BY id DESC LIMIT 1")[0]


@pytest.mark.parametrize("layout", ["legacy", "current"])
def test_the_unaltered_replica_raises_no_alarm(tmp_path: Path, replica_factory, layout: str) -> None:
    replica = replica_factory(articles=26, layout=layout)
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url)
    assert result.returncode == 0, result.stderr
    assert _stderr_lines(result) == []
    run = _last_run(archive)
    assert run["alarms"] is None
    quality = json.loads(run["quality"])
    assert sum(quality["articles"].values()) == 31
    assert f"31 new ({quality['articles'].get('ok', 0)} ok" in result.stdout


@pytest.mark.parametrize("variant", ["neutral", "renamed", "redesign"])
def test_markup_no_template_matches_exits_3_naming_the_fields(tmp_path: Path, replica_factory, variant: str) -> None:
    replica = replica_factory(articles=26, layout="legacy", drift=variant)
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url)
    assert result.returncode == 3, result.stdout + result.stderr
    lines = _stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("portal-crawler: layout drift: "), lines
    assert "probe http://127.0.0.1" in lines[0]
    run = _last_run(archive)
    assert json.loads(run["alarms"])
    log = next((archive / "logs").glob("*.log")).read_text()
    assert "layout drift:" in log
    captured = rows(archive / "catalogue.db", "SELECT COUNT(*) AS n FROM captures WHERE status = 200")[0]["n"]
    assert captured >= 2  # everything fetched is kept in the WARC files


def test_ten_new_articles_in_a_new_layout_after_a_clean_run_exit_3(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="legacy")
    archive = tmp_path / "archive"
    assert crawl(archive, replica.listing_url).returncode == 0
    replica.add_articles(10)
    replica.set_drift("neutral")
    result = crawl(archive, replica.listing_url, extra=())
    assert result.returncode == 3, result.stdout + result.stderr
    line = _stderr_lines(result)[0]
    assert "layout drift:" in line and "10/10 new articles" in line
    assert "published" in line and "title" in line
    assert "10 new" in result.stdout
    stats = run_cli("stats", "--archive", str(archive))
    assert stats.returncode == 0 and "drift: run 2" in stats.stdout and "quality of run 2: 0 ok" in stats.stdout
    figures = json.loads(run_cli("stats", "--archive", str(archive), "--json").stdout)
    assert figures["runs"]["drifted"][0]["id"] == 2
    assert figures["runs"]["last"]["quality"]["fields"]["published"]["degraded"] == 10


def test_challenge_pages_are_never_catalogued(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="legacy")
    replica.set_drift("challenge", challenge_first=3, challenge_pattern=r"-t\d+\.html")  # three article pages
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url)
    assert result.returncode == 1, result.stdout + result.stderr  # three pages still to fetch: the next run will
    db = archive / "catalogue.db"
    walled = rows(db, "SELECT url, article_id FROM captures WHERE url LIKE '%-t%.html' AND article_id IS NULL")
    assert len(walled) == 3
    assert len(rows(db, "SELECT id FROM articles")) == 25 - 3
    replica.set_drift()
    again = crawl(archive, replica.listing_url, extra=())
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(rows(db, "SELECT id FROM articles")) == 25


@pytest.mark.parametrize("kind", ["incapsula", "cloudflare"])
def test_five_challenges_in_a_row_stop_the_run_with_exit_4(tmp_path: Path, replica_factory, kind: str) -> None:
    replica = replica_factory(articles=20, layout="legacy")
    replica.set_drift("challenge", challenge_kind=kind, challenge_pattern=r"\.html")  # robots.txt answers
    archive = tmp_path / "archive"
    starts = [replica.listing_url, *(replica.article_url(a.id) for a in replica.articles()[:6])]
    result = crawl(archive, *starts)
    assert result.returncode == 4, result.stdout + result.stderr
    lines = _stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"portal-crawler: blocked: 5 challenge pages in a row from 127.0.0.1:{replica.port}")
    assert "the portal is refusing this crawler" in lines[0]
    assert rows(archive / "catalogue.db", "SELECT id FROM articles") == []
    assert _last_run(archive)["status"] == "blocked"
    requests = sum(replica.counts().values())
    assert requests <= 12  # it stopped, politely: no hammering at the wall
    replica.set_drift()
    again = crawl(archive, replica.listing_url, extra=())
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(rows(archive / "catalogue.db", "SELECT id FROM articles")) == 25


EXPECTED_EXIT = {"time": 3, "byline": 3, "wrapped": 3, "nobanner": 0, "neutral": 3, "renamed": 3, "redesign": 3}


@pytest.mark.parametrize("variant", sorted(EXPECTED_EXIT))
def test_every_drift_variant_is_named_and_dates_and_authors_stay_right(
    tmp_path: Path, replica_factory, variant: str
) -> None:
    replica = replica_factory(articles=26, layout="legacy", drift=variant)
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url)
    assert result.returncode == EXPECTED_EXIT[variant], result.stdout + result.stderr
    run = _last_run(archive)
    fields = json.loads(run["quality"])["fields"]
    degraded = {name: counts["degraded"] for name, counts in fields.items() if counts["degraded"]}
    truth = {a.id: a for a in replica.articles()}
    if result.returncode == 0:  # exit 0 only when every field still came from the profile's selectors
        no_byline = sum(a.byline is None for a in truth.values())  # the page has none: nothing to select
        assert degraded in ({}, {"author": no_byline}) and _stderr_lines(result) == []
    else:
        line = _stderr_lines(result)[0]
        assert line.startswith("portal-crawler: layout drift: ") and any(name in line for name in degraded)
    got = {r["id"]: r for r in rows(archive / "catalogue.db", "SELECT id, published, author FROM articles")}
    assert set(got) == set(truth)  # the walk goes on without a listing template (next page by number)
    dates = sum(got[i]["published"] == truth[i].published.isoformat() for i in got)
    assert dates >= 0.95 * len(truth), f"{dates}/{len(truth)} dates right"
    if variant in ("byline", "time", "neutral"):
        authors = sum(fold(got[i]["author"]) == _author(truth[i].byline) for i in got)
        assert authors >= 0.95 * len(truth), f"{authors}/{len(truth)} authors right"


def test_app_shells_in_a_row_stop_the_run_with_exit_4(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="current", drift="shell")
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "blocked: 5 empty app shells in a row" in _stderr_lines(result)[0]
    assert rows(archive / "catalogue.db", "SELECT id FROM articles") == []


def test_a_wall_in_place_of_the_only_listing_page_is_blocked_not_a_silent_error(
    tmp_path: Path, replica_factory
) -> None:
    replica = replica_factory(articles=5, layout="current", drift="challenge", challenge_kind="cloudflare")
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url, extra=())
    assert result.returncode == 4, result.stdout + result.stderr
    assert _stderr_lines(result) == [
        f"portal-crawler: blocked: no listing page could be read: {replica.listing_url} is a Cloudflare challenge;"
        " the portal is refusing this crawler"
    ]
    assert _last_run(archive)["status"] == "blocked"


def test_walls_in_place_of_article_pages_alone_stop_the_run_on_the_writers_word(
    tmp_path: Path, replica_factory
) -> None:
    """The crawl leaves article pages undecoded for the writer; the walls the writer finds count all the same."""
    replica = replica_factory(articles=40, layout="legacy")
    replica.set_drift("challenge", challenge_pattern=r"-t\d+\.html")  # every article page; the listings answer
    archive = tmp_path / "archive"
    result = crawl(archive, replica.listing_url)
    assert result.returncode == 4, result.stdout + result.stderr
    lines = _stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"portal-crawler: blocked: 5 challenge pages in a row from 127.0.0.1:{replica.port}")
    db = archive / "catalogue.db"
    assert rows(db, "SELECT id FROM articles") == []
    walled = rows(db, "SELECT url FROM captures WHERE url LIKE '%-t%.html' AND article_id IS NULL")
    assert 5 <= len(walled) < 45  # it stopped before the walk's end, every wall it met archived as it came
    assert _last_run(archive)["status"] == "blocked"
