"""Replay: the CDXJ index, pywb's config, and pywb serving the archive on 127.0.0.1.

pywb runs in a subprocess (`python -m portal_crawler.upkeep.replay ARCHIVE 0`): importing it
monkey-patches the process for gevent, which pytest's process must not be.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import start_replay, stop

from portal_crawler.upkeep.replay import (
    ReplayError,
    ReplayPaths,
    update_index,
    write_config,
)
from portal_crawler.warc.records import Exchange, PriorCapture, RecordPointer
from portal_crawler.warc.writer import WarcWriter

pytestmark = pytest.mark.slow  # crawls of the replica in subprocesses

T0 = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
T1, T2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
TS0, TS1, TS2 = "20261123120000", "20261124120000", "20261125120000"
ARTICLE = "http://127.0.0.1:8000/en/news/t6294.html"
IMAGE = "http://127.0.0.1:8000/images/t6294.jpg"
TITLE = "Minister receives the delegation"
HTML = (
    f'<html><head><title>{TITLE}</title></head><body><h1>{TITLE}</h1><img src="/images/t6294.jpg"></body></html>'
).encode()
HTML_GZ = gzip.compress(HTML, mtime=0)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
HTML_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]


def exchange(url: str, body: bytes, headers: list[tuple[str, str]], at: datetime) -> Exchange:
    return Exchange(
        url=url,
        method="GET",
        request_body=b"",
        request_headers=[("Host", "127.0.0.1:8000")],
        status=200,
        reason="OK",
        response_headers=headers,
        body=body,
        fetched_at=at,
        ip_address="127.0.0.1",
    )


def writer(archive: Path, at: datetime) -> WarcWriter:
    return WarcWriter(archive / "warc", host="crawler1", clock=lambda: at)


def first_run(archive: Path) -> tuple[RecordPointer, RecordPointer]:
    """The article (gzip on the wire, stored compressed) and its image."""
    with writer(archive, T0) as run:
        article = run.write_exchange(exchange(ARTICLE, HTML_GZ, HTML_HEADERS, T0))
        image = run.write_exchange(exchange(IMAGE, JPEG, [("Content-Type", "image/jpeg")], T0))
    return article, image


def second_run(archive: Path, article: RecordPointer) -> RecordPointer:
    """The same article fetched a day later with the same payload: a revisit in a later file."""
    prior = PriorCapture(article.record_id, ARTICLE, article.warc_date, article.payload_digest)
    with writer(archive, T1) as run:
        revisit = run.write_exchange(exchange(ARTICLE, HTML_GZ, HTML_HEADERS, T1), prior)
    assert revisit.record_type == "revisit" and revisit.filename != article.filename
    return revisit


def third_run(archive: Path, article: RecordPointer) -> RecordPointer:
    """A conditional GET two days later answered 304: a server-not-modified revisit."""
    prior = PriorCapture(article.record_id, ARTICLE, article.warc_date, article.payload_digest)
    answer = replace(exchange(ARTICLE, b"", [("ETag", '"v1"')], T2), status=304, reason="Not Modified")
    with writer(archive, T2) as run:
        return run.write_not_modified(answer, prior)


def index_lines(index: Path) -> list[tuple[str, dict]]:
    return [(line.split(" ")[1], json.loads(line.split(" ", 2)[2])) for line in index.read_text().splitlines()]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    archive = tmp_path_factory.mktemp("replay") / "archive"
    article, _ = first_run(archive)
    second_run(archive, article)
    third_run(archive, article)
    process, number = start_replay(archive, archive.parent / "replay.log")
    try:
        yield number
    finally:
        stop(process)


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """GET with exactly the headers given (http.client adds no Accept-Encoding)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def test_serve_announces_the_collection_and_its_captures(port):
    status, _, page = get(port, "/mps/")
    assert status == 200 and b"mps" in page


def test_id_mode_returns_the_article_decoded_or_as_stored(port):
    status, headers, body = get(port, f"/mps/{TS0}id_/{ARTICLE}")
    assert (status, body) == (200, HTML)  # no Accept-Encoding: pywb undoes the gzip
    assert "content-encoding" not in headers and headers["x-archive-orig-content-encoding"] == "gzip"
    status, headers, body = get(port, f"/mps/{TS0}id_/{ARTICLE}", Accept_Encoding="gzip")
    assert (status, body) == (200, HTML_GZ)  # the client takes gzip: the stored entity, byte for byte
    assert headers["content-encoding"] == "gzip" and headers["content-length"] == str(len(HTML_GZ))


def test_id_mode_returns_the_image_bytes(port):
    status, headers, body = get(port, f"/mps/{TS0}id_/{IMAGE}", Accept_Encoding="gzip")
    assert (status, headers["content-type"], body) == (200, "image/jpeg", JPEG)


def test_replay_mode_serves_the_rewritten_page(port):
    status, _, page = get(port, f"/mps/{TS0}/{ARTICLE}")
    assert status == 200  # unframed replay: the page itself, links rewritten into the archive
    assert f"<title>{TITLE}</title>".encode() in page
    assert f'src="/mps/{TS0}im_/{IMAGE}"'.encode() in page


def test_the_revisit_resolves_to_the_earlier_file(port):
    status, headers, body = get(port, f"/mps/{TS1}id_/{ARTICLE}")
    assert (status, body) == (200, HTML)
    assert headers["memento-datetime"] == "Tue, 24 Nov 2026 12:00:00 GMT"


def test_a_not_modified_revisit_replays_the_nearest_content(port):
    status, headers, body = get(port, f"/mps/{TS2}id_/{ARTICLE}")
    assert (status, body) == (200, HTML)  # not pywb's replay of the 304 with an empty body
    assert headers["memento-datetime"] == "Tue, 24 Nov 2026 12:00:00 GMT"


def test_unknown_url_is_not_found(port):
    assert get(port, f"/mps/{TS0}id_/http://127.0.0.1:8000/en/news/t1.html")[0] == 404


def test_update_index_is_incremental(tmp_path):
    article, _ = first_run(tmp_path)
    paths = ReplayPaths.of(tmp_path)
    index = update_index(tmp_path)
    assert index == paths.merged_index and [fields["mime"] for _, fields in index_lines(index)] == [
        "text/html",
        "image/jpeg",
    ]
    first_part = paths.per_file_dir / f"{article.filename}.cdxj"
    before = (first_part.stat().st_mtime_ns, index.stat().st_mtime_ns)
    update_index(tmp_path)
    assert (first_part.stat().st_mtime_ns, index.stat().st_mtime_ns) == before
    revisit = second_run(tmp_path, article)
    update_index(tmp_path)
    assert first_part.stat().st_mtime_ns == before[0]
    assert sorted(p.name for p in paths.per_file_dir.iterdir()) == sorted(
        f"{name}.cdxj" for name in (article.filename, revisit.filename)
    )
    assert [(ts, f["mime"], f["filename"]) for ts, f in index_lines(index)] == [
        (TS0, "text/html", article.filename),
        (TS1, "warc/revisit", revisit.filename),
        (TS0, "image/jpeg", article.filename),
    ]


def test_update_index_follows_changed_and_removed_files(tmp_path):
    article, _ = first_run(tmp_path)
    revisit = second_run(tmp_path, article)
    paths = ReplayPaths.of(tmp_path)
    update_index(tmp_path)
    (tmp_path / "warc" / revisit.filename).unlink()
    assert len(index_lines(update_index(tmp_path))) == 2
    assert not (paths.per_file_dir / f"{revisit.filename}.cdxj").exists()
    with open(tmp_path / "warc" / article.filename, "r+b") as warc:
        warc.truncate(article.offset)  # only the warcinfo record left
    assert index_lines(update_index(tmp_path)) == []


def test_not_modified_revisits_are_left_out_of_the_index(tmp_path):
    article, _ = first_run(tmp_path)
    revisit = second_run(tmp_path, article)
    third_run(tmp_path, article)
    assert [(ts, f["mime"], f["filename"]) for ts, f in index_lines(update_index(tmp_path))] == [
        (TS0, "text/html", article.filename),
        (TS1, "warc/revisit", revisit.filename),
        (TS0, "image/jpeg", article.filename),
    ]


def test_config_points_pywb_at_the_original_files(tmp_path):
    first_run(tmp_path)
    config = write_config(tmp_path)
    paths = ReplayPaths.of(tmp_path)
    assert config == paths.config
    text = config.read_text()
    assert f'index_paths: "{paths.merged_index}"' in text
    assert f'archive_paths: "{paths.warc_dir}/"' in text
    assert not (tmp_path / "collections").exists() and not (paths.replay_dir / "collections").exists()


def test_a_missing_or_empty_archive_is_a_clear_error(tmp_path):
    with pytest.raises(ReplayError, match="no archive at"):
        update_index(tmp_path / "nowhere")
    (tmp_path / "warc").mkdir()
    with pytest.raises(ReplayError, match=r"nothing to replay: no \*\.warc\.gz files in"):
        update_index(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "portal_crawler.upkeep.replay", str(tmp_path / "nowhere"), "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("replay: no archive at") and len(run.stderr.splitlines()) == 1


def test_a_torn_tail_is_left_out_of_the_index(tmp_path, caplog):
    article, image = first_run(tmp_path)
    path = tmp_path / "warc" / article.filename
    whole = path.read_bytes()
    path.write_bytes(whole[: image.request_offset + 40])  # a crash while writing the last request
    assert [(int(f["offset"]), int(f["length"])) for _, f in index_lines(update_index(tmp_path))] == [
        (article.offset, article.length),
        (image.offset, image.length),
    ]
    path.write_bytes(whole[: image.offset + 200])  # cut inside the image's response record
    assert [f["mime"] for _, f in index_lines(update_index(tmp_path))] == ["text/html"]
    assert f"offset {image.offset}: gzip member cut short" in caplog.text
    assert "verify --repair" in caplog.text


def test_a_busy_port_is_a_clear_error(tmp_path):
    first_run(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "portal_crawler.upkeep.replay", str(tmp_path), str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert run.returncode == 1 and run.stderr == (
        f"replay: cannot listen on 127.0.0.1:{port}: Address already in use: give another --port\n"
    )


def test_importing_replay_leaves_pywb_and_gevent_alone():
    code = "import sys, portal_crawler.upkeep.replay; assert not {'pywb', 'gevent'} & set(sys.modules)"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=30)
