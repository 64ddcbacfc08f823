"""WARC captures of real crawls: headers agree with stored bodies, revisits, rotation, verify."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

import pytest
from helpers import compare, crawl, rows, run_cli, warc_check

from portal_crawler.warc.reader import read_record

pytestmark = pytest.mark.slow  # crawls of the replica in subprocesses


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory):
    """Two full crawls of an unchanged replica, WARC files rotated at 1 MB; listings chunked."""
    from portal_crawler.replica import Replica, ReplicaConfig

    archive = tmp_path_factory.mktemp("rotated") / "archive"
    with Replica(ReplicaConfig(articles=120, layout="legacy", seed=5, port=0)) as replica:
        replica.set_faults(chunked={"pattern": "news-and-events"})
        first = crawl(archive, replica.listing_url, extra=("--full", "--warc-max-size", "1000000"))
        assert first.returncode == 0, first.stderr
        second = crawl(archive, replica.listing_url, extra=("--full", "--warc-max-size", "1000000"))
        assert second.returncode == 0, second.stderr
        yield archive, replica


def capture_record(archive: Path, capture: dict):
    return read_record(archive / "warc" / capture["warc_filename"], capture["warc_offset"])


def test_gzip_entity_stored_compressed_with_matching_length(rotated) -> None:
    archive, _ = rotated
    capture = rows(archive / "catalogue.db", "SELECT * FROM captures WHERE url LIKE '%t6294.html' ORDER BY id LIMIT 1")[
        0
    ]
    record = capture_record(archive, capture)
    assert record.header("Content-Encoding") == "gzip"
    assert record.entity[:2] == b"\x1f\x8b"
    assert int(record.header("Content-Length")) == len(record.entity)
    assert b"MPS seeks to improve quality" in gzip.decompress(record.entity)


def test_chunked_listing_stored_dechunked_with_both_cookies(rotated) -> None:
    archive, _ = rotated
    capture = rows(
        archive / "catalogue.db", "SELECT * FROM captures WHERE url LIKE '%news-and-events.html' ORDER BY id LIMIT 1"
    )[0]
    record = capture_record(archive, capture)
    names = [k.lower() for k, _ in record.headers]
    assert "transfer-encoding" not in names
    assert int(record.header("Content-Length")) == len(record.entity)
    assert names.count("set-cookie") == 2
    assert b"news-item" in record.decoded_body()


def test_unchanged_recrawl_is_revisits_and_small(rotated) -> None:
    archive, _ = rotated
    runs = rows(archive / "catalogue.db", "SELECT id, warc_bytes FROM runs ORDER BY id")
    assert len(runs) == 2
    assert runs[1]["warc_bytes"] <= 0.15 * runs[0]["warc_bytes"], runs
    second = rows(
        archive / "catalogue.db",
        "SELECT record_type, status FROM captures WHERE run_id = 2 AND url NOT LIKE '%robots.txt'",
    )
    assert second and all(r["record_type"] == "revisit" for r in second)


def test_rotation_opens_each_file_with_warcinfo_and_pointers_hold(rotated) -> None:
    archive, _ = rotated
    files = sorted((archive / "warc").glob("*.warc.gz"))
    assert len(files) >= 4
    from warcio.archiveiterator import ArchiveIterator

    for path in files:
        with open(path, "rb") as handle:
            assert next(iter(ArchiveIterator(handle))).rec_type == "warcinfo"
    for capture in rows(archive / "catalogue.db", "SELECT * FROM captures"):
        record = capture_record(archive, capture)
        assert (record.record_id, record.url) == (capture["warc_record_id"], capture["url"])
    assert warc_check(archive / "warc").returncode == 0


def test_verify_passes_on_the_good_archive(rotated) -> None:
    archive, _ = rotated
    result = run_cli("verify", "--archive", str(archive), "--summary")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": ok")


def damaged_copy(rotated, tmp_path: Path) -> Path:
    archive, _ = rotated
    copy = tmp_path / "archive"
    shutil.copytree(archive, copy, ignore=shutil.ignore_patterns("lock"))
    return copy


def last_file(archive: Path) -> Path:
    return sorted((archive / "warc").glob("*.warc.gz"))[-1]


def test_verify_reports_a_flipped_byte(rotated, tmp_path: Path) -> None:
    archive = damaged_copy(rotated, tmp_path)
    path = sorted((archive / "warc").glob("*.warc.gz"))[0]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    result = run_cli("verify", "--archive", str(archive))
    assert result.returncode == 1
    assert path.name in result.stderr and "offset" in result.stderr


def test_verify_reports_wrong_offset_and_missing_file(rotated, tmp_path: Path) -> None:
    archive = damaged_copy(rotated, tmp_path)
    conn = sqlite3.connect(archive / "catalogue.db")
    conn.execute("UPDATE captures SET warc_offset = warc_offset + 5 WHERE id = 10")
    conn.commit()
    conn.close()
    missing = last_file(archive)
    missing.unlink()
    result = run_cli("verify", "--archive", str(archive))
    assert result.returncode == 1
    assert "missing-file" in result.stderr and missing.name in result.stderr
    assert any(line.startswith(("unreadable", "wrong-record")) for line in result.stderr.splitlines())


def test_repair_of_a_torn_tail_loses_nothing_whole(rotated, tmp_path: Path) -> None:
    archive = damaged_copy(rotated, tmp_path)
    path = last_file(archive)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size - 40)
    broken = run_cli("verify", "--archive", str(archive))
    assert broken.returncode == 1 and "torn-tail" in broken.stderr
    repaired = run_cli("verify", "--archive", str(archive), "--repair")
    assert "repaired:" in repaired.stdout
    after = run_cli("verify", "--archive", str(archive))
    assert after.returncode == 0, after.stderr
    for seed in ("t6294", "t7006"):
        shown = run_cli("show", "--archive", str(archive), seed, "--html")
        assert shown.returncode == 0 and "<html" in shown.stdout
    for capture in rows(archive / "catalogue.db", "SELECT c.* FROM articles a JOIN captures c ON c.id = a.capture_id"):
        assert capture_record(archive, capture).status == 200


@pytest.fixture(scope="module")
def replay_port(rotated):
    import subprocess
    import sys

    archive, _ = rotated
    server = subprocess.Popen(
        [sys.executable, "-m", "portal_crawler", "replay", "--archive", str(archive), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        assert line.startswith("replay: http://127.0.0.1:"), line + server.stderr.read()
        yield int(line.split(":")[3].split("/")[0])
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stdout.close()
        server.stderr.close()


def fetch(url: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def stamp(capture: dict) -> str:
    return "".join(ch for ch in capture["warc_date"] if ch.isdigit())[:14]


def test_replay_gives_served_bytes_of_page_and_image(rotated, replay_port) -> None:
    archive, _replica = rotated
    db = archive / "catalogue.db"
    article = rows(db, "SELECT * FROM captures WHERE url LIKE '%t6294.html' ORDER BY id LIMIT 1")[0]
    image = rows(db, "SELECT * FROM captures WHERE url LIKE '%.jpg' AND record_type = 'response' ORDER BY id LIMIT 1")[
        0
    ]
    base = f"http://127.0.0.1:{replay_port}/mps"
    assert fetch(f"{base}/{stamp(article)}id_/{article['url']}") == fetch(article["url"])
    assert fetch(f"{base}/{stamp(image)}id_/{image['url']}") == fetch(image["url"])
    status, page = fetch(f"{base}/{stamp(article)}/{article['url']}")
    assert status == 200 and b"<title>MPS seeks to improve quality" in page


def test_replay_of_an_article_whose_latest_capture_is_a_revisit(rotated, replay_port) -> None:
    archive, _ = rotated
    db = archive / "catalogue.db"
    latest = rows(db, "SELECT * FROM captures WHERE url LIKE '%t7006.html' ORDER BY id DESC LIMIT 1")[0]
    assert latest["record_type"] == "revisit"
    status, body = fetch(f"http://127.0.0.1:{replay_port}/mps/{stamp(latest)}id_/{latest['url']}")
    assert status == 200 and b"reviews task performance" in body


def test_reindex_reader_reads_every_capture_as_warcio_does(rotated) -> None:
    """Two real crawls (gzip, chunked, images, revisits): FastWARC agrees with warcio on every record."""
    archive, _ = rotated
    totals = {"fast": 0, "careful": 0, "skipped": 0}
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        for key, count in compare(path).items():
            totals[key] += count
    captures = rows(archive / "catalogue.db", "SELECT COUNT(*) AS n FROM captures")[0]["n"]
    assert totals["fast"] == captures > 200
    assert totals["careful"] == 0
