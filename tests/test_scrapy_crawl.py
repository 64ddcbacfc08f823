"""`scrapy crawl portal` from the repository root is the same program as `portal-crawler crawl`.

It archives where PORTAL_ARCHIVE (or `-s PORTAL_ARCHIVE_DIR=`) says, never in
./archive; logs to ARCHIVE/logs/; prints the summary line at the end; and with
`-O FILE` exports the articles it read, field for field as the catalogue has them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import rows

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("id", "url", "title", "published", "author", "summary", "body", "section", "template", "quality")
LISTS = ("captions", "images", "problems")


def scrapy_crawl(url: str, *options: str, archive: Path | None) -> subprocess.CompletedProcess[str]:
    """`python -m scrapy crawl portal` in the repository root (scrapy.cfg), PORTAL_ARCHIVE set when given."""
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_ARCHIVE", "PORTAL_FAST", "PORTAL_DEBUG")}
    if archive is not None:
        env["PORTAL_ARCHIVE"] = str(archive)
    command = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"start_url={url}", "-s", "PORTAL_FAST=1"]
    return subprocess.run([*command, *options], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def listing(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.fixture
def repo_archive_untouched():
    """The repository's own ./archive holds exactly what it held before (replica captures never go there)."""
    before = listing(ROOT / "archive")
    yield
    assert listing(ROOT / "archive") == before


def exported(feed: Path) -> dict[str, dict]:
    return {item["id"]: item for item in map(json.loads, feed.read_text(encoding="utf-8").splitlines())}


def catalogued(archive: Path) -> dict[str, dict]:
    return {row["id"]: row for row in rows(archive / "catalogue.db", "SELECT * FROM articles")}


def assert_same_articles(items: dict[str, dict], articles: dict[str, dict]) -> None:
    assert sorted(items) == sorted(articles)
    for article_id, item in items.items():
        row = articles[article_id]
        assert {f: item[f] for f in FIELDS} == {f: row[f] for f in FIELDS}, article_id
        assert {f: item[f] for f in LISTS} == {f: json.loads(row[f]) for f in LISTS}, article_id
        assert item["paragraphs"] and item["body"] == "\n\n".join(item["paragraphs"])


def test_scrapy_crawl_archives_in_portal_archive_and_exports_the_articles(
    tmp_path: Path, replica_factory, repo_archive_untouched
) -> None:
    replica = replica_factory(articles=5)
    archive, feed = tmp_path / "scratch-archive", tmp_path / "articles.jsonl"
    done = scrapy_crawl(replica.listing_url, "-a", "full=1", "-O", str(feed), archive=archive)
    assert done.returncode == 0, done.stderr[-3000:]
    new = r"10 new \(10 ok, 0 partial, 0 fallback\)"
    summary = rf"run 1 full ok: \d+ requests, {new}, .* -> {re.escape(str(archive))}\n"
    assert re.fullmatch(summary, done.stdout), done.stdout
    (log,) = (archive / "logs").glob("crawl-*.log")
    text = log.read_text()
    assert "Spider closed (finished)" in text and "'item_scraped_count': 10" in text
    assert "Spider closed" not in done.stderr  # Scrapy's banner may precede the log file; the run's lines do not
    (run,) = rows(archive / "catalogue.db", "SELECT status, mode, articles_new FROM runs")
    assert run == {"status": "ok", "mode": "full", "articles_new": 10}
    items, articles = exported(feed), catalogued(archive)
    assert_same_articles(items, articles)
    assert {item["title"] for item in items.values()} >= {"Communal police force be people’s firm support"}


def test_the_archive_setting_wins_and_without_a_feed_no_item_is_made(
    tmp_path: Path, replica_factory, repo_archive_untouched
) -> None:
    replica = replica_factory(articles=2)
    named, chosen = tmp_path / "from-env", tmp_path / "from-setting"
    done = scrapy_crawl(replica.listing_url, "-s", f"PORTAL_ARCHIVE_DIR={chosen}", archive=named)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not named.exists() and done.stdout.startswith("run 1 incremental ok: ")
    (log,) = (chosen / "logs").glob("crawl-*.log")
    assert "item_scraped_count" not in log.read_text()  # the spider yielded no item: none was made
    assert len(catalogued(chosen)) == 7


def test_scrapy_crawl_of_the_json_api_exports_its_articles(
    tmp_path: Path, replica_factory, repo_archive_untouched
) -> None:
    replica = replica_factory(articles=10, layout="app")
    archive, feed = tmp_path / "scratch-archive", tmp_path / "articles.jsonl"
    done = scrapy_crawl(replica.listing_url, "-a", "source=api", "-O", str(feed), archive=archive)
    assert done.returncode == 0, done.stderr[-3000:]
    items, articles = exported(feed), catalogued(archive)
    assert len(items) == 15 and {item["template"] for item in items.values()} == {"api"}
    assert_same_articles(items, articles)


def test_a_feed_on_stdout_stays_clean(tmp_path: Path, replica_factory, repo_archive_untouched) -> None:
    replica = replica_factory(articles=1)
    archive = tmp_path / "scratch-archive"
    done = scrapy_crawl(replica.listing_url, "-O", "-:jsonl", archive=archive)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] and "run 1 incremental ok: " in done.stderr
