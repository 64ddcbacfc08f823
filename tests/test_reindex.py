"""reindex rebuilds the catalogue from WARC alone; show --html gives the served bytes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tracemalloc
import urllib.request
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import ARTICLE_COLUMNS, CAPTURE_COLUMNS, SAMPLES, VERSION_COLUMNS, crawl, rows, run_cli

from portal_crawler.catalogue import Catalogue
from portal_crawler.catalogue.ingest import PageCapture, read_page
from portal_crawler.core.errors import ArchiveBusy
from portal_crawler.extraction.profile import load_profile
from portal_crawler.extraction.urls import UrlRules
from portal_crawler.upkeep.rebuilding import Rebuild
from portal_crawler.upkeep.reindex import reindex
from portal_crawler.warc.codings import DECODE_LIMIT
from portal_crawler.warc.records import Exchange
from portal_crawler.warc.writer import WarcWriter


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


@pytest.mark.slow
def test_second_run_records_the_edit_as_version_2(two_runs) -> None:
    archive, _, edited = two_runs
    db = archive / "catalogue.db"
    assert rows(db, "SELECT version FROM articles WHERE id = ?", (edited,)) == [{"version": 2}]
    assert rows(db, "SELECT COUNT(*) AS n FROM articles WHERE version > 1")[0]["n"] == 1
    assert rows(db, "SELECT COUNT(*) AS n FROM captures WHERE record_type = 'revisit'")[0]["n"] > 40
    assert rows(db, "SELECT COUNT(*) AS n FROM captures WHERE status = 304")[0]["n"] > 30
    assert rows(db, "SELECT COUNT(*) AS n FROM articles WHERE gone_since IS NOT NULL")[0]["n"] == 1


@pytest.mark.slow
def test_reindex_rebuilds_identical_articles_and_versions(two_runs, tmp_path: Path) -> None:
    archive, _, _ = two_runs
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
    assert len(rows(rebuilt, "SELECT id FROM articles")) == 45
    fts = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'security' ORDER BY rowid"
    assert rows(rebuilt, fts) == rows(original, fts) and rows(rebuilt, fts)


@pytest.mark.slow
def test_show_html_is_the_served_page_of_each_version(two_runs) -> None:
    archive, replica, edited = two_runs
    served = urllib.request.urlopen(replica.article_url(edited)).read()
    latest = run_cli("show", "--archive", str(archive), edited, "--html")
    assert latest.returncode == 0 and latest.stdout.encode() == served
    first = run_cli("show", "--archive", str(archive), edited, "--html", "--version", "1")
    assert first.returncode == 0 and first.stdout.encode() != served
    text_v1 = run_cli("show", "--archive", str(archive), edited, "--version", "1")
    assert "Version:   1" in text_v1.stdout


@pytest.mark.slow
def test_show_html_of_gzip_served_page_is_decoded(two_runs) -> None:
    archive, replica, _ = two_runs
    seed = "t6294"
    request = urllib.request.Request(replica.article_url(seed), headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as answer:
        assert answer.headers["Content-Encoding"] == "gzip"
        served = gzip.decompress(answer.read())
    shown = run_cli("show", "--archive", str(archive), seed, "--html")
    assert shown.stdout.encode() == served


@pytest.mark.slow
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


# -- archives written by hand: scope, decompression bombs, damage, the busy guard ------------------

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOME, OTHER = "127.0.0.1:8000", "127.0.0.1:9999"  # the run's host, and another service on the same machine
LISTING = "/news-and-events.html"


@pytest.fixture(scope="module")
def portal():
    """A replica's pages, rendered without a server (nothing listens)."""
    from portal_crawler.replica import Replica, ReplicaConfig

    return Replica(ReplicaConfig(articles=3, layout="legacy", seed=1))


def served(portal, path: str, host: str = HOME, minutes: int = 0, body: bytes | None = None, **headers: str):
    """The exchange of one GET of `path` from `host`, as the crawl would have handed it to the writer."""
    answer = portal.site.respond(path)
    extra = [(name.replace("_", "-"), value) for name, value in headers.items()]
    return Exchange(
        url=f"http://{host}{path}",
        method="GET",
        request_headers=[("Host", host)],
        request_body=b"",
        status=answer.status,
        reason=answer.reason,
        response_headers=[("Content-Type", answer.content_type), *extra],
        body=answer.body if body is None else body,
        fetched_at=T0 + timedelta(minutes=minutes),
        ip_address="127.0.0.1",
    )


def write_archive(root: Path, exchanges: list, scope: str | None = HOME, run_id: int = 1) -> Path:
    """An archive directory whose warc/ holds one file with these exchanges (no catalogue)."""
    info = {"run-id": str(run_id), "mode": "full", "profile": "mps"} | ({"scope": scope} if scope else {})
    with WarcWriter(root / "warc", host="test", warcinfo=info, clock=lambda: T0) as writer:
        for exchange in exchanges:
            writer.write_exchange(exchange)
    return root


def catalogue_rows(archive: Path, sql: str) -> list[dict]:
    return rows(archive / "catalogue.db", sql)


@pytest.mark.parametrize("scope", [HOME, None], ids=["warcinfo-scope", "0.1.0-first-request"])
def test_captures_of_another_port_are_never_articles(portal, tmp_path: Path, scope: str | None) -> None:
    first, second = portal.articles()[:2]
    archive = write_archive(
        tmp_path,
        [
            served(portal, "/robots.txt"),
            served(portal, LISTING),
            served(portal, first.url_path, minutes=1),
            served(portal, second.url_path, OTHER, minutes=2),  # another service's page under an article URL
            served(portal, first.url_path, OTHER, minutes=3, body=portal.site.respond(second.url_path).body),
        ],
        scope=scope,
    )
    report = reindex(archive / "warc", archive / "catalogue.db", workers=1)
    assert (report.captures, report.out_of_scope, report.articles, report.versions) == (5, 2, 1, 1)
    assert catalogue_rows(archive, "SELECT id, version FROM articles") == [{"id": first.id, "version": 1}]
    assert catalogue_rows(archive, "SELECT url FROM captures WHERE article_id IS NOT NULL") == [
        {"url": f"http://{HOME}{first.url_path}"}
    ]
    assert report.exit_code == 0 and report.damage == []


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzip-compressed (about a thousandth of the size), built without holding them."""
    packer, zeros = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16), bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(size >> 20)) + packer.flush()


def test_a_gzip_bomb_page_is_refused_not_inflated(portal, tmp_path: Path) -> None:
    article = portal.articles()[0]
    bomb = gzip_bomb(50 << 20)
    assert len(bomb) < 100_000
    capture = PageCapture(f"http://{HOME}{article.url_path}", 200, [("Content-Encoding", "gzip")], bomb, 1, "x")
    profile = load_profile("mps")
    rules = UrlRules(profile, (HOME,))
    tracemalloc.start()
    reading = read_page(capture, rules.classify(capture.url), profile, rules)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reading.kind == "error" and reading.article is None and "larger than" in (reading.problem or "")
    assert peak < 3 * DECODE_LIMIT  # never the 50 MB the entity says


@pytest.mark.slow
def test_reindex_and_show_of_a_bomb_stay_bounded(portal, tmp_path: Path) -> None:
    """A 200 MB bomb archived as an article page: no article from it, memory bounded, `show --html` one line."""
    article = portal.articles()[0]
    bomb = served(portal, article.url_path, minutes=1, body=gzip_bomb(200 << 20), Content_Encoding="gzip")
    archive = write_archive(tmp_path, [served(portal, LISTING), served(portal, article.url_path), bomb])
    out, err, peak_mb = run_measured("reindex", "--archive", str(archive), cwd=tmp_path)
    assert not err.startswith("Traceback"), err
    assert "3 captures, 1 articles, 1 versions" in out and "larger than" in err
    assert peak_mb < 150  # the page alone would be 200 MB inflated (in a worker, then as text)
    assert catalogue_rows(archive, "SELECT version FROM articles") == [{"version": 1}]
    with sqlite3.connect(archive / "catalogue.db") as conn:  # as a catalogue of another release might have it
        conn.execute("UPDATE captures SET article_id = ? WHERE id = 3", (article.id,))
    shown = run_cli("show", "--archive", str(archive), article.id, "--html")
    assert shown.returncode == 1 and shown.stdout == ""
    assert len(shown.stderr.strip().splitlines()) == 1 and "larger than" in shown.stderr


# Starts the command from a small process of its own: a child's peak RSS counts the memory of the process
# it was forked from before its exec (here the whole test run), so pytest cannot start it directly.
LAUNCHER = (
    "import os, subprocess, sys; child = subprocess.Popen(sys.argv[2:]); _, status, usage = os.wait4(child.pid, 0);"
    " open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')"
)


def run_measured(*args: str, cwd: Path) -> tuple[str, str, float]:
    """`python -m portal_crawler ARGS`: its stdout, stderr and peak RSS in MB (its workers included: os.wait4)."""
    out, err, usage = cwd / "stdout", cwd / "stderr", cwd / "usage"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        command = [sys.executable, "-c", LAUNCHER, str(usage), sys.executable, "-m", "portal_crawler", *args]
        subprocess.run(command, stdout=stdout, stderr=stderr, check=True, timeout=300)
    peak_kb, returncode = usage.read_text().split()
    assert returncode == "0", err.read_text()
    return out.read_text(), err.read_text(), int(peak_kb) / 1024


def damage(path: Path, how: str) -> None:
    """Damage a WARC file as a disk, a copy or an operator might."""
    data = path.read_bytes()
    if how == "garbage-appended":
        path.write_bytes(data + os.urandom(5000))
    elif how == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif how == "flipped":
        middle = bytearray(data)
        middle[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(middle))


@pytest.mark.slow
def test_reindex_reads_past_damage_reports_it_and_keeps_the_run_history(two_runs, tmp_path: Path) -> None:
    source, _, edited = two_runs
    archive = tmp_path / "archive"
    shutil.copytree(source, archive, ignore=shutil.ignore_patterns("*.bak", "lock"))
    first, second, third = sorted((archive / "warc").glob("*.warc.gz"))
    for path, how in ((first, "garbage-appended"), (second, "flipped"), (third, "truncated")):
        damage(path, how)
    (archive / "warc" / "zz-garbage.warc.gz").write_bytes(os.urandom(4000).replace(b"\x1f\x8b", b"\x1f\x8c"))
    old_runs = catalogue_rows(archive, "SELECT * FROM runs ORDER BY id")
    result = run_cli("reindex", "--archive", str(archive))
    assert result.returncode == 1, result.stderr
    damaged = [line for line in result.stderr.splitlines() if line.startswith("damaged: ")]
    assert [line.split(":")[1].strip() for line in damaged] == [p.name for p in (first, second, third)] + [
        "zz-garbage.warc.gz"
    ]
    assert "Traceback" not in result.stderr
    assert "read on from offset" in damaged[1] and damaged[3].endswith("(nothing after it was readable)")
    assert not list(archive.glob("catalogue.db.reindex*"))
    every = {r["id"] for r in rows(source / "catalogue.db", "SELECT id FROM articles")}
    assert {r["id"] for r in catalogue_rows(archive, "SELECT id FROM articles")} == every  # all of run 1's file
    assert catalogue_rows(archive, f"SELECT version FROM articles WHERE id = '{edited}'") == [{"version": 2}]
    assert catalogue_rows(archive, "SELECT * FROM runs ORDER BY id") == old_runs  # every column, no 'reindexed'
    assert rows(archive / "catalogue.db.bak", "SELECT * FROM runs ORDER BY id") == old_runs


def test_reindex_of_the_broken_samples_names_each_place(tmp_path: Path) -> None:
    warc = tmp_path / "warc"
    warc.mkdir()
    for name in ("good", "torn-tail", "flipped-byte", "digest-mismatch"):
        shutil.copy(SAMPLES / f"{name}.warc.gz", warc)
    report = reindex(warc, tmp_path / "catalogue.db", workers=1)
    places = sorted((d.file, d.offset, d.resumed_at) for d in report.damage)
    assert places == [
        ("digest-mismatch.warc.gz", 352, 827),
        ("flipped-byte.warc.gz", 352, 816),
        ("torn-tail.warc.gz", 2406, None),
    ]
    assert report.captures == 3 + 3 + 2 + 3 and report.exit_code == 1
    assert "WARC-Payload-Digest differs" in next(d.reason for d in report.damage if d.file.startswith("digest"))
    assert not list(tmp_path.glob("catalogue.db.reindex*"))


def test_reindex_of_nothing_but_garbage_is_one_line_and_keeps_the_catalogue(tmp_path: Path) -> None:
    (tmp_path / "warc").mkdir()
    (tmp_path / "warc" / "junk.warc.gz").write_bytes(b"\x1f\x8b\x08" + os.urandom(3000))
    Catalogue(tmp_path / "catalogue.db").close()
    before = (tmp_path / "catalogue.db").read_bytes()
    result = run_cli("reindex", "--archive", str(tmp_path))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no record could be read" in result.stderr and "junk.warc.gz: offset 0" in result.stderr
    assert (tmp_path / "catalogue.db").read_bytes() == before and not (tmp_path / "catalogue.db.bak").exists()
    assert not list(tmp_path.glob("catalogue.db.reindex*"))


@pytest.mark.slow
def test_reindex_refuses_while_another_sqlite_writer_holds_the_catalogue(portal, tmp_path: Path) -> None:
    archive = write_archive(tmp_path, [served(portal, LISTING)])
    Catalogue(archive / "catalogue.db").close()
    holder = sqlite3.connect(archive / "catalogue.db")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE mine (x)")
    try:
        result = run_cli("reindex", "--archive", str(archive))
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 75 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "another SQLite connection is writing" in result.stderr
    assert not list(archive.glob("catalogue.db.*"))


@pytest.mark.slow
def test_a_writer_that_arrives_during_the_build_stops_the_swap(portal, tmp_path: Path, monkeypatch) -> None:
    archive = write_archive(tmp_path, [served(portal, LISTING)])
    Catalogue(archive / "catalogue.db").close()
    holder = sqlite3.connect(archive / "catalogue.db")
    add_file = Rebuild.add_file

    def add_then_lock(self, path: Path) -> None:
        add_file(self, path)
        holder.execute("BEGIN IMMEDIATE")

    monkeypatch.setattr(Rebuild, "add_file", add_then_lock)
    monkeypatch.setattr("portal_crawler.catalogue.rebuild.BUSY_WAIT_S", 0.1)
    with pytest.raises(ArchiveBusy):
        reindex(archive / "warc", archive / "catalogue.db", workers=1)
    holder.rollback()
    holder.close()
    assert sorted(p.name for p in archive.iterdir()) == ["catalogue.db", "warc"]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, OSError])
def test_an_interrupted_reindex_leaves_no_scratch_file(portal, tmp_path: Path, monkeypatch, interruption) -> None:
    archive = write_archive(tmp_path, [served(portal, LISTING)])

    def stop(self, run, offset, length, record) -> None:
        raise interruption("stop")

    monkeypatch.setattr(Rebuild, "add_record", stop)
    with pytest.raises(interruption):
        reindex(archive / "warc", archive / "catalogue.db", workers=2)
    assert sorted(p.name for p in archive.iterdir()) == ["warc"]


def test_reindex_of_the_0_1_0_archive_keeps_its_articles_and_runs(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(Path(__file__).parent / "data" / "archive-0.1.0", archive)
    Catalogue(archive / "catalogue.db").close()  # migrated to this release's schema (and hash) first
    old = {
        sql: catalogue_rows(archive, sql)
        for sql in ("SELECT * FROM runs ORDER BY id", "SELECT id, version, content_hash FROM articles ORDER BY id")
    }
    report = reindex(archive / "warc", archive / "catalogue.db", workers=1)
    assert (report.exit_code, report.out_of_scope, report.articles) == (0, 0, 13)
    for sql, expected in old.items():
        assert catalogue_rows(archive, sql) == expected, sql


def test_page_pool_reads_in_capture_order_when_the_reader_helps_the_workers() -> None:
    """Batches the reading process reads itself (the workers behind) still come back in submission order."""
    from portal_crawler.upkeep.page_pool import PageJob, PagePool

    profile = load_profile("mps")
    golden = sorted((Path(__file__).parent / "golden").glob("*/*/*.html"))
    jobs = []
    for number, page in enumerate(golden * 3):
        meta = json.loads(page.with_suffix(".meta.json").read_text("utf-8"))
        scope = (urlsplit(meta["url"]).netloc,)
        headers = [("Content-Type", meta["content_type"])]
        capture = PageCapture(meta["url"], meta["status"], headers, page.read_bytes(), number, "2026-12-01T00:00:00Z")
        jobs.append(PageJob(capture, UrlRules(profile, scope).classify(meta["url"]), scope))
    with PagePool(profile, workers=1) as alone:
        expected = [r for job in jobs for r in alone.submit(job)] + alone.drain()
    batch = 2
    with PagePool(profile, workers=2, batch=batch, queued=1) as pool:
        readings = [r for job in jobs for r in pool.submit(job)] + pool.drain()
    assert [r.capture_id for r in readings] == list(range(len(jobs)))
    assert readings == expected
    assert {r.kind for r in readings} >= {"article", "listing"}
    articles = [r.article for r in readings if r.kind == "article" and r.article]
    assert articles and all(a["body"] and "paragraphs" not in a for a in articles)  # body carries them, once
    assert 0 < pool.read_here < len(jobs) // batch  # of the batches, both the workers and the reader read some
