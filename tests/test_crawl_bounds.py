"""The crawl stays inside its scope and its bounds: ports, listening sockets, endless pagers, a full disk."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import crawl, rows, run_cli

from portal_crawler.warc.reader import scan_file

pytestmark = pytest.mark.slow


def test_a_redirect_to_another_port_of_the_same_host_is_not_followed(tmp_path: Path, replica_factory) -> None:
    portal = replica_factory(articles=5, layout="legacy")
    other = replica_factory(articles=5, layout="legacy", seed=9)  # another service on 127.0.0.1
    target = other.article_url(other.articles()[0].id)
    portal.set_faults(redirect_offsite=target)
    archive = tmp_path / "archive"
    result = crawl(archive, portal.listing_url, portal.base_url + "/go-away")
    assert result.returncode == 0, result.stderr
    urls = [r["url"] for r in rows(archive / "catalogue.db", "SELECT url FROM captures")]
    assert any(u.endswith("/go-away") for u in urls)
    assert not any(f":{other.port}/" in u for u in urls)
    assert sum(other.counts().values()) == 0  # not one request reached the other service
    log = next((archive / "logs").glob("*.log")).read_text()
    assert "'portal/out_of_scope': 1" in log


def _listening_inodes() -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if match := re.fullmatch(r"socket:\[(\d+)\]", target):
            found.add(match.group(1))
    return found


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_crawl_listens_on_no_port(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=20, layout="legacy")
    replica.set_faults(slow={"seconds": 0.3})  # the crawl lives a few seconds
    env = {**os.environ, "PORTAL_FAST": "1"}
    args = [
        sys.executable,
        "-m",
        "portal_crawler",
        "crawl",
        "--archive",
        str(tmp_path / "a"),
        "--full",
        "--start-url",
        replica.listing_url,
    ]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not any(p for p, _ in replica.counts().items() if "ItemID" in p or "/t" in p):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        pids = [process.pid, *_children(process.pid)]
        assert len(pids) >= 2, "the crawl and its writer process"
        listening = _listening_inodes()
        for pid in pids:
            assert not (_socket_inodes(pid) & listening), f"process {pid} listens on a port"
    finally:
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err


@contextmanager
def soft_pager(upstream: str) -> Iterator[str]:
    """A proxy to the replica that answers every `?Page=N` of the listing with page 1 (a broken pager)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = re.sub(r"[?&]Page=\d+", "", self.path)
            with urllib.request.urlopen(upstream + path) as answer:
                body, kind = answer.read(), answer.headers.get("Content-Type", "text/html")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode", [(), ("--full",)], ids=["incremental", "full"])
def test_a_pager_that_repeats_page_one_ends_the_walk(tmp_path: Path, replica_factory, mode: tuple[str, ...]) -> None:
    replica = replica_factory(articles=40, layout="legacy")
    with soft_pager(replica.base_url) as base:
        archive = tmp_path / "archive"
        result = crawl(archive, base + "/news-and-events.html", extra=mode)
    assert result.returncode == 3, result.stderr  # archived, and the drift alarm names the listing signal
    assert "listing pages listed nothing new" in result.stderr
    listings = rows(archive / "catalogue.db", "SELECT url FROM captures WHERE url LIKE '%news-and-events%'")
    assert 2 <= len(listings) <= 12, len(listings)  # page 1, then the pages that repeat it: never without end
    log = next((archive / "logs").glob("*.log")).read_text()
    assert "listing walk stops at" in log and "lists no article not already listed" in log


def test_warcinfo_records_the_robots_policy(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=2, layout="legacy")
    archive = tmp_path / "archive"
    assert crawl(archive, replica.listing_url, extra=("-s", "ROBOTSTXT_OBEY=False")).returncode == 0
    warc = next((archive / "warc").glob("*.warc.gz"))
    from warcio.archiveiterator import ArchiveIterator

    with warc.open("rb") as handle:
        info = next(iter(ArchiveIterator(handle))).content_stream().read().decode()
    assert "robots: ignore" in info and f"127.0.0.1:{replica.port}" in info


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.parametrize("writer", ["process", "inline"])
def test_a_full_disk_ends_the_run_with_one_line_and_nothing_is_lost(
    tmp_path: Path, replica_factory, writer: str
) -> None:
    replica = replica_factory(articles=300, layout="legacy")
    with small_disk(tmp_path / "disk", "3m") as archive:
        result = crawl(archive, replica.listing_url, extra=("--full", "--set", f"PORTAL_WRITER={writer}"))
        assert result.returncode == 1
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "disk full while writing" in lines[0], result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        subprocess.run(["mount", "-o", "remount,size=64m", str(archive)], check=True)
        assert run_cli("verify", "--archive", str(archive), "--repair").returncode in (0, 1)
        assert run_cli("verify", "--archive", str(archive)).returncode == 0
        again = crawl(archive, replica.listing_url, extra=())
        assert again.returncode == 0, again.stderr
        status = rows(archive / "catalogue.db", "SELECT status FROM runs ORDER BY id")
        assert [r["status"] for r in status] == ["failed", "ok"]  # closed by the writer, or by the next run
        ids = {r["id"] for r in rows(archive / "catalogue.db", "SELECT id FROM articles")}
        assert ids == {a.id for a in replica.articles()}
        for warc in (archive / "warc").glob("*.warc.gz"):
            assert scan_file(warc).good_end == warc.stat().st_size
