"""History, diff and citations of a crawled article edited between two runs, checked against WARC and replay.

One replica archived by a full run, one article edited on the replica (an
update paragraph), then an incremental run with `--recheck-days 36500` that
captures version 2. The WARC records are read with warcio and the replay is
pywb (`portal-crawler replay`) in its own process: neither is the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import crawl, rows, run_cli, start_replay, stop
from warcio.archiveiterator import ArchiveIterator

from portal_crawler.replica import Replica, ReplicaConfig

pytestmark = pytest.mark.slow  # crawls of the replica, and pywb, in subprocesses


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(archive, ID of the article edited between the two runs)."""
    archive = tmp_path_factory.mktemp("citations") / "archive"
    with Replica(ReplicaConfig(articles=8, seed=3, host="127.0.0.1", port=0, layout="legacy")) as replica:
        first = crawl(archive, replica.listing_url)
        assert first.returncode == 0, first.stderr
        article = replica.articles()[1].id
        replica.edit_article(article)
        second = crawl(archive, replica.listing_url, extra=("--recheck-days", "36500"))
        assert second.returncode == 0, second.stderr
    return archive, article


@pytest.fixture(scope="module")
def replay_port(edited: tuple[Path, str]) -> Iterator[int]:
    archive, _ = edited
    process, port = start_replay(archive, archive.parent / "replay.log", captures=None)
    try:
        yield port
    finally:
        stop(process)


def versions(archive: Path, article: str) -> list[dict]:
    return rows(archive / "catalogue.db", "SELECT * FROM versions WHERE article_id = ? ORDER BY version", (article,))


def the_record(archive: Path, filename: str, offset: int) -> tuple[dict[str, str], bytes]:
    """The WARC headers and the raw entity (as stored: still gzip when it was sent so) of one record, by warcio."""
    with open(archive / "warc" / filename, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        headers = dict(record.rec_headers.headers)
        return headers, record.raw_stream.read()


def get(port: int, path: str, **headers: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def field(text: str, name: str) -> str:
    found = re.search(rf"^{name}:\s+(\S+)", text, re.M)
    assert found, f"no {name} line in:\n{text}"
    return found[1]


def test_history_and_diff_show_the_paragraph_the_edit_added(edited: tuple[Path, str]) -> None:
    archive, article = edited
    v1, v2 = versions(archive, article)
    added = [p for p in v2["body"].split("\n\n") if p not in v1["body"].split("\n\n")]
    assert len(added) == 1 and added[0].startswith("Update 1: ")
    shown = run_cli("history", article, "--archive", str(archive))
    assert shown.returncode == 0, shown.stderr
    assert f"v2  {v2['captured_at']}  body paragraphs: 1 added" in shown.stdout
    assert f"v1  {v1['captured_at']}  first version" in shown.stdout
    diff = run_cli("diff", article, "--archive", str(archive))
    assert diff.returncode == 0, diff.stderr
    position = v2["body"].split("\n\n").index(added[0]) + 1
    assert f"paragraph {position} added:\n    {{+{added[0]}+}}" in diff.stdout and "\x1b[" not in diff.stdout


def test_cite_gives_the_record_id_and_digest_of_the_warc_record(edited: tuple[Path, str]) -> None:
    archive, article = edited
    for version in ("1", "2"):
        cited = run_cli("show", article, "--cite", "--article-version", version, "--archive", str(archive))
        assert cited.returncode == 0, cited.stderr
        place = re.search(r"^WARC file:\s+(\S+) at offset (\d+) \(response record\)$", cited.stdout, re.M)
        assert place, cited.stdout
        headers, entity = the_record(archive, place[1], int(place[2]))
        assert headers["WARC-Record-ID"] == field(cited.stdout, "WARC-Record-ID")
        assert headers["WARC-Payload-Digest"] == field(cited.stdout, "WARC-Payload-Digest")
        recomputed = "sha1:" + base64.b32encode(hashlib.sha1(entity).digest()).decode()
        assert recomputed == headers["WARC-Payload-Digest"]  # anyone can check the copy from the WARC alone
        assert headers["WARC-Target-URI"] == field(cited.stdout, "Original URL")
        assert field(cited.stdout, "Captured") == headers["WARC-Date"]
        stamp = re.sub(r"\D", "", headers["WARC-Date"])[:14]
        assert field(cited.stdout, "Replay") == f"http://127.0.0.1:8090/mps/{stamp}/{headers['WARC-Target-URI']}"


def test_the_replay_url_show_prints_serves_the_archived_page(edited: tuple[Path, str], replay_port: int) -> None:
    archive, article = edited
    base = f"http://127.0.0.1:{replay_port}"
    for version in ("1", "2"):
        shown = run_cli("show", article, "--article-version", version, "--replay-base", base, "--archive", str(archive))
        assert shown.returncode == 0, shown.stderr
        replay = field(shown.stdout, "Replay")
        assert replay.startswith(f"{base}/mps/") and re.match(rf"{base}/mps/\d{{14}}/http://", replay)
        status, page = get(replay_port, replay.removeprefix(base))
        title = rows(archive / "catalogue.db", "SELECT title FROM versions WHERE article_id = ?", (article,))[0]
        assert status == 200 and title["title"].encode() in page  # the replayed (rewritten) page
        cited = run_cli("show", article, "--cite", "--article-version", version, "--archive", str(archive))
        place = re.search(r"^WARC file:\s+(\S+) at offset (\d+)", cited.stdout, re.M)
        _, entity = the_record(archive, place[1], int(place[2]))
        raw = re.sub(r"/mps/(\d{14})/", r"/mps/\1id_/", replay.removeprefix(base), count=1)
        assert get(replay_port, raw, Accept_Encoding="gzip") == (200, entity)  # this version's bytes, as stored


def test_the_timemap_lists_every_capture_of_the_article(edited: tuple[Path, str], replay_port: int) -> None:
    archive, article = edited
    base = f"http://127.0.0.1:{replay_port}"
    shown = run_cli("history", article, "--replay-base", base, "--archive", str(archive))
    timemap = field(shown.stdout, "TimeMap")
    status, links = get(replay_port, timemap.removeprefix(base))
    assert status == 200, links[:300]
    for line in shown.stdout.splitlines():
        if line.strip().startswith("replay: "):
            stamp = re.search(r"/mps/(\d{14})/", line)[1]
            assert f"/mps/{stamp}/".encode() in links, (stamp, links[:500])


def test_diff_is_coloured_on_a_terminal_only(edited: tuple[Path, str]) -> None:
    archive, article = edited
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    command = [sys.executable, "-m", "portal_crawler", "diff", article, "--archive", str(archive)]
    with subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, env=env) as process:
        os.close(follower)
        shown = b""
        while chunk := _read(leader):
            shown += chunk
        assert process.wait(30) == 0
    os.close(leader)
    assert b"\x1b[32m{+Update 1: " in shown  # green insertions on a terminal
    piped = run_cli("diff", article, "--archive", str(archive))
    assert "{+Update 1: " in piped.stdout and "\x1b[" not in piped.stdout


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other side of the terminal closed
        return b""
