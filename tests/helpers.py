"""What the tests share, imported as `from helpers import ...` (fixtures live in conftest.py).

The CLI in a subprocess as a user or cron would run it, crawls of the replica,
plain-sqlite3 reads of a catalogue (never the code under test), the seeds'
expected extraction, and the archive made by release 0.1.0.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from portal_crawler.warc.archived import archived_response, parse_member
from portal_crawler.warc.captures import _fast, iter_records
from portal_crawler.warc.members import iter_members
from portal_crawler.warc.records import CAPTURE_TYPES, Exchange, PriorCapture, RecordPointer
from portal_crawler.warc.writer import WarcWriter

FIXTURES = Path(__file__).parent / "fixtures"
ARCHIVE_0_1_0 = Path(__file__).parent / "data" / "archive-0.1.0"
BIN = Path(sys.executable).parent
SAMPLES = Path(__file__).parent / "data" / "warc"  # small WARC files, good and deliberately broken


def run_cli(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None, user: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m portal_crawler ARGS` in a subprocess; as another user (uid = gid) when `user` is given."""
    prefix = [] if user is None else ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    full_env = {**os.environ, "PORTAL_FAST": "1", **(env or {})}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "portal_crawler", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def crawl(archive: Path, *start_urls: str, extra: tuple[str, ...] = ("--full",)) -> subprocess.CompletedProcess[str]:
    """`crawl` as a subprocess (stdout not a terminal), with --summary so that its summary line is printed."""
    args = ["crawl", "--archive", str(archive), "--summary", *extra]
    for url in start_urls:
        args += ["--start-url", url]
    return run_cli(*args)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed on stderr (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def _read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True)


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query as tuples, read with a plain read-only sqlite3 connection."""
    conn = _read_only(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a query as dicts, read with a plain read-only sqlite3 connection."""
    conn = _read_only(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def expected_seeds() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def fold(text: str | None) -> str:
    """White space folded to single spaces, for comparing extracted text with the seeds'."""
    return " ".join((text or "").split())


def warc_check(warc_dir: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p) for p in warc_dir.glob("*.warc.gz"))
    assert files, f"no WARC files in {warc_dir}"
    return subprocess.run([str(BIN / "warcio"), "check", *files], capture_output=True, text=True)


def wait_unlocked(archive: Path, timeout: float = 30) -> None:
    """After a crawl is killed its writer process writes out what it had, holding the lock until done."""
    from portal_crawler.core.lock import ArchiveLock, LockHeld

    deadline = time.monotonic() + timeout
    while True:
        try:
            ArchiveLock(archive).acquire().release()
            return
        except LockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# -- WARC records made with a fixed clock and record IDs (byte-exact tests) ---------------------

T0 = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
URL = "http://127.0.0.1:8000/en/news/t6294.html?x=1"
PAGE = b"<html><body><p>Hello from the portal</p></body></html>"


def record_ids():
    numbers = itertools.count(1)
    return lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(numbers):012d}>"


def make_writer(directory: Path, at: datetime = T0, **options) -> WarcWriter:
    return WarcWriter(
        directory,
        host="crawler1",
        clock=lambda: at,
        make_record_id=record_ids(),
        warcinfo={"isPartOf": "mps", "run-id": "7"},
        **options,
    )


def make_exchange(page: bytes = PAGE, at: datetime = T0, **changes) -> Exchange:
    compressed = gzip.compress(page, mtime=0)
    exchange = Exchange(
        url=URL,
        method="GET",
        request_body=b"",
        request_headers=[("Host", "127.0.0.1:8000"), ("Accept-Encoding", "gzip, deflate")],
        status=200,
        reason="OK",
        body=compressed,
        fetched_at=at,
        ip_address="127.0.0.1",
        response_headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Encoding", "gzip"),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Path=/"),
        ],
    )
    return replace(exchange, **changes)


def prior_of(pointer: RecordPointer) -> PriorCapture:
    return PriorCapture(pointer.record_id, URL, pointer.warc_date, pointer.payload_digest)


def warcio_reading(path: Path) -> list[tuple[int, int, object]]:
    """(offset, length, ArchivedResponse or record type) of every record, read by warcio alone."""
    read = []
    for offset, length, member in iter_members(path):
        record = parse_member(member, path, offset)
        kind = record.rec_type
        read.append((offset, length, archived_response(record, path, offset) if kind in CAPTURE_TYPES else kind))
    return read


def compare(path: Path) -> dict[str, int]:
    """Every record of a file read both ways; how many FastWARC read, how many the careful reader took."""
    by_warcio = warcio_reading(path)
    captures = [(o, n, r) for o, n, r in by_warcio if not isinstance(r, str)]
    assert list(iter_records(path)) == captures
    fast = list(_fast(path, 0))
    assert fast == captures[: len(fast)]
    return {"fast": len(fast), "careful": len(captures) - len(fast), "skipped": len(by_warcio) - len(captures)}


# The catalogue columns a rebuild must reproduce exactly (reindex tests).
ARTICLE_COLUMNS = (
    "id, url, title, published, author, summary, body, captions, images, section, template, quality, problems,"
    " content_hash, first_seen, last_seen, version, capture_id"
)
VERSION_COLUMNS = (
    "article_id, version, content_hash, captured_at, capture_id, url, title, published, author, summary, body,"
    " captions, images, template, quality"
)
CAPTURE_COLUMNS = "id, url, status, warc_filename, warc_offset, warc_record_id, record_type, payload_digest, article_id"


def start_replay(archive: Path, log: Path, captures: int | None = 3) -> tuple[subprocess.Popen[str], int]:
    """Start `replay` (pywb) on a free port; its first stdout line names the port (and `captures`, when given)."""
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal_crawler.upkeep.replay", str(archive), "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    ready, _, _ = select.select([process.stdout], [], [], 20)
    line = process.stdout.readline() if ready else ""
    count = r"\d+" if captures is None else str(captures)
    announced = re.fullmatch(rf"replay: http://127\.0\.0\.1:(\d+)/mps/ \({count} captures\)\n", line)
    if not announced:
        stop(process)
        pytest.fail(f"replay did not start: {line!r}\n{log.read_text()}")
    return process, int(announced[1])


def stop(process: subprocess.Popen[str]) -> None:
    """End a server started with pipes, and close every pipe it was given."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
