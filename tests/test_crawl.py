"""End to end: the replica crawled in a subprocess, asserted on catalogue, WARC and request counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import crawl, expected_seeds, fold, rows, warc_check
from warcio.archiveiterator import ArchiveIterator

from portal_crawler.replica import Replica, ReplicaConfig

pytestmark = pytest.mark.slow  # crawls of the replica in subprocesses


@pytest.fixture(scope="module")
def big_crawl(tmp_path_factory: pytest.TempPathFactory):
    """A full crawl of a legacy replica with 2,000 generated articles plus the seeds."""
    archive = tmp_path_factory.mktemp("big") / "archive"
    with Replica(ReplicaConfig(articles=2000, layout="legacy", seed=7, port=0)) as replica:
        result = crawl(archive, replica.listing_url)
        yield archive, replica, result, replica.counts()


def test_full_crawl_catalogues_every_article_once(big_crawl) -> None:
    archive, replica, result, _ = big_crawl
    assert result.returncode == 0, result.stderr
    assert "2005 new" in result.stdout
    catalogued = rows(archive / "catalogue.db", "SELECT id FROM articles")
    assert Counter(r["id"] for r in catalogued) == Counter(a.id for a in replica.articles())
    run = rows(archive / "catalogue.db", "SELECT * FROM runs")[0]
    assert (run["status"], run["mode"], run["articles_new"], run["errors"]) == ("ok", "full", 2005, 0)


def test_each_listing_article_and_image_fetched_once(big_crawl) -> None:
    _, replica, _, counts = big_crawl
    articles = replica.articles()
    served = {target: n for target, n in counts.items()}
    assert all(n == 1 for n in served.values()), {t: n for t, n in served.items() if n > 1}
    paths = {urlsplit(t).path for t in served}
    assert {a.url_path for a in articles} <= paths
    assert {img for a in articles for img in a.images} <= paths
    listing_pages = [t for t in served if t.startswith("/news-and-events.html")]
    assert len(listing_pages) == -(-len(articles) // 10)
    assert not any("&" in t for t in served), "pager trap URL requested"


def test_every_capture_pointer_reads_back_its_record(big_crawl) -> None:
    archive, *_ = big_crawl
    captures = rows(archive / "catalogue.db", "SELECT * FROM captures ORDER BY id")
    assert len(captures) > 2005
    handles: dict[str, object] = {}
    for capture in captures:
        name = capture["warc_filename"]
        if name not in handles:
            handles[name] = open(archive / "warc" / name, "rb")  # noqa: SIM115 (closed below)
        handle = handles[name]
        handle.seek(capture["warc_offset"])
        record = next(iter(ArchiveIterator(handle)))
        assert record.rec_type == capture["record_type"] == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == capture["url"]
        assert record.rec_headers.get_header("WARC-Record-ID") == capture["warc_record_id"]
    for handle in handles.values():
        handle.close()


def test_warc_files_pass_warcio_check(big_crawl) -> None:
    archive, *_ = big_crawl
    check = warc_check(archive / "warc")
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("layout", ["legacy", "current"])
def test_seed_articles_extracted_exactly(tmp_path: Path, replica_factory, layout: str) -> None:
    replica = replica_factory(articles=30, layout=layout)
    result = crawl(tmp_path / "archive", replica.listing_url)
    assert result.returncode == 0, result.stderr
    db = tmp_path / "archive" / "catalogue.db"
    by_title = {r["title"]: r for r in rows(db, "SELECT * FROM articles")}
    for seed in expected_seeds():
        row = by_title[seed["title"]]
        assert (row["published"], row["author"], row["quality"]) == (seed["published"], seed["author"], "ok")
        assert [fold(p) for p in row["body"].split("\n\n")] == [fold(p) for p in seed["paragraphs"]]
        assert [fold(c) for c in json.loads(row["captions"])] == [fold(c) for c in seed["captions"]]
        assert row["template"] == layout


def test_article_variants_are_one_row(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=5, layout="legacy")
    article = replica.articles()[3]
    base = replica.base_url
    path = article.url_path
    other_slug = path.replace(path.rsplit("/", 1)[1], "a-different-slug-" + article.id + ".html")
    variants = [
        base + path,
        base + other_slug,
        base + path + "?utm_source=x",
        base.replace("127.0.0.1", "localhost") + path,
    ]
    result = crawl(tmp_path / "archive", *variants)
    assert result.returncode == 0, result.stderr
    db = tmp_path / "archive" / "catalogue.db"
    assert [r["id"] for r in rows(db, "SELECT id FROM articles")] == [article.id]
    assert sum(n for t, n in replica.counts().items() if article.id in t and not t.endswith((".jpg", ".png"))) == 1


def test_unknown_layout_is_fallback_and_missing_fields_partial(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="legacy")
    ids = [a.id for a in replica.articles()[:3]]
    replica.set_faults(fallback_layout=[ids[0]], no_date=[ids[1]], no_byline=[ids[2]])
    result = crawl(tmp_path / "archive", replica.listing_url)
    assert result.returncode == 0, result.stderr
    db = tmp_path / "archive" / "catalogue.db"
    got = {r["id"]: r for r in rows(db, "SELECT * FROM articles")}
    assert len(got) == 25
    assert (got[ids[0]]["template"], got[ids[0]]["quality"]) == ("fallback", "fallback")
    assert len(got[ids[0]]["body"]) > 200
    # no date on the page: the date its listing printed stands in, and says so (source, problem, quality)
    truth = replica.article(ids[1]).published.isoformat()
    assert (got[ids[1]]["quality"], got[ids[1]]["published"]) == ("partial", truth)
    assert json.loads(got[ids[1]]["field_sources"])["published"] == "listing"
    assert "published: the selector found nothing; taken from listing" in got[ids[1]]["problems"]
    assert (got[ids[2]]["quality"], got[ids[2]]["author"]) == ("partial", None)
