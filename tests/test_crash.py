"""SIGKILL at ten moments of a full crawl: verify --repair and the next run leave a whole archive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import crawl, rows, run_cli, wait_unlocked

from portal_crawler.warc.reader import read_record

pytestmark = pytest.mark.slow  # crawls of the replica in subprocesses

MOMENTS = 10


def killed_crawl(archive: Path, url: str, after: float) -> bool:
    """Kill a full crawl `after` seconds in; whether it was still running (the kill interrupted it)."""
    env = {**os.environ, "PORTAL_FAST": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "portal_crawler", "crawl", "--full", "--archive", str(archive), "--start-url", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after)
    interrupted = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return interrupted


@pytest.fixture(scope="module")
def replica():
    from portal_crawler.replica import Replica, ReplicaConfig

    with Replica(ReplicaConfig(articles=120, layout="legacy", seed=17, port=0)) as running:
        yield running


@pytest.fixture(scope="module")
def whole_crawl(replica, tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    """Seconds and requests of one uninterrupted full crawl of the replica."""
    archive = tmp_path_factory.mktemp("timing") / "archive"
    started = time.monotonic()
    assert crawl(archive, replica.listing_url).returncode == 0
    seconds = time.monotonic() - started
    return {"seconds": seconds, "requests": rows(archive / "catalogue.db", "SELECT requests FROM runs")[0]["requests"]}


@pytest.fixture(scope="module")
def crawl_seconds(whole_crawl: dict[str, float]) -> float:
    return whole_crawl["seconds"]


@pytest.mark.parametrize("moment", range(MOMENTS))
def test_kill_repair_and_rerun_leaves_every_article_once(
    moment: int, replica, crawl_seconds: float, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    assert killed_crawl(archive, replica.listing_url, after=0.3 + crawl_seconds * 0.6 * moment / MOMENTS)
    wait_unlocked(archive)
    if (archive / "catalogue.db").exists():  # the killed run never closed its row as ok
        assert [r["status"] for r in rows(archive / "catalogue.db", "SELECT status FROM runs")] != ["ok"]
    if (archive / "catalogue.db").exists():
        repair = run_cli("verify", "--archive", str(archive), "--repair")
        assert repair.returncode in (0, 1) and "Traceback" not in repair.stderr
    rerun = crawl(archive, replica.listing_url, extra=())
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    verified = run_cli("verify", "--archive", str(archive))
    assert verified.returncode == 0, verified.stderr
    db = archive / "catalogue.db"
    catalogued = [r["id"] for r in rows(db, "SELECT id FROM articles")]
    assert sorted(catalogued) == sorted(a.id for a in replica.articles())
    for capture in rows(db, "SELECT c.* FROM articles a JOIN captures c ON c.id = a.capture_id"):
        record = read_record(archive / "warc" / capture["warc_filename"], capture["warc_offset"])
        assert record.status == 200 and record.url == capture["url"]


def writer_of(process: subprocess.Popen, timeout: float = 10) -> int:
    """The PID of the crawl's writer process (its child running portal_crawler.writer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        for child in children:
            if b"portal_crawler.writer" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
        time.sleep(0.02)
    raise AssertionError("the crawl started no writer process")


def served_by(replica, requests: float, baseline: int, timeout: float = 60) -> None:
    """Wait until the replica has served ``requests`` more requests than ``baseline``."""
    deadline = time.monotonic() + timeout
    while sum(replica.counts().values()) - baseline < requests:
        if time.monotonic() > deadline:
            raise AssertionError(f"the crawl made fewer than {requests:.0f} requests in {timeout} s")
        time.sleep(0.005)


def test_a_dead_writer_stops_the_crawl_with_one_line_and_the_next_run_completes(
    replica, whole_crawl: dict[str, float], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    served = sum(replica.counts().values())
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal_crawler",
            "crawl",
            "--full",
            "--summary",
            "--archive",
            str(archive),
            "--start-url",
            replica.listing_url,
            "--set",
            "PORTAL_WRITER=process",  # the writer process is what this test kills, even on one CPU
        ],
        env={**os.environ, "PORTAL_FAST": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = writer_of(process)
    # Kill by progress, not by time: a slow machine's start-up would otherwise move the moment late.
    served_by(replica, whole_crawl["requests"] / 4, baseline=served)
    os.kill(writer, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr.splitlines() == [stderr.strip()] and "archive writer stopped (exit -9)" in stderr, stderr
    assert " failed: " in stdout
    run = rows(archive / "catalogue.db", "SELECT status, requests FROM runs")[0]
    assert run["status"] == "failed" and run["requests"] < 0.8 * whole_crawl["requests"]  # it stopped at once
    repair = run_cli("verify", "--archive", str(archive), "--repair")
    assert repair.returncode in (0, 1) and "Traceback" not in repair.stderr
    rerun = crawl(archive, replica.listing_url, extra=())
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert run_cli("verify", "--archive", str(archive)).returncode == 0
    catalogued = [r["id"] for r in rows(archive / "catalogue.db", "SELECT id FROM articles")]
    assert sorted(catalogued) == sorted(a.id for a in replica.articles())
