"""Shared test helpers: replicas on 127.0.0.1, the CLI in a subprocess, WARC readers."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_crawler.replica import Replica, ReplicaConfig

FIXTURES = Path(__file__).parent / "fixtures"
BIN = Path(sys.executable).parent


def run_cli(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m portal_crawler ARGS` in a subprocess, as a user or cron would run it."""
    full_env = {**os.environ, "PORTAL_FAST": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "portal_crawler", *args], capture_output=True, text=True, timeout=timeout, env=full_env
    )


def crawl(archive: Path, *start_urls: str, extra: tuple[str, ...] = ("--full",)) -> subprocess.CompletedProcess[str]:
    args = ["crawl", "--archive", str(archive), *extra]
    for url in start_urls:
        args += ["--start-url", url]
    return run_cli(*args)


def rows(db: Path, sql: str, params: tuple = ()) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def expected_seeds() -> list[dict]:
    return json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def fold(text: str | None) -> str:
    return " ".join((text or "").split())


def warc_check(warc_dir: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p) for p in warc_dir.glob("*.warc.gz"))
    assert files, f"no WARC files in {warc_dir}"
    return subprocess.run([str(BIN / "warcio"), "check", *files], capture_output=True, text=True)


@pytest.fixture
def replica_factory() -> Iterator:
    started: list[Replica] = []

    def start(**kwargs) -> Replica:
        replica = Replica(ReplicaConfig(**{"seed": 1, "host": "127.0.0.1", "port": 0, **kwargs}))
        replica.start()
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.stop()


def wait_unlocked(archive: Path, timeout: float = 30) -> None:
    """After a crawl is killed its writer process writes out what it had, holding the lock until done."""
    import time

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
