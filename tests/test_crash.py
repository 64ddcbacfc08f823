"""SIGKILL at ten moments of a full crawl: verify --repair and the next run leave a whole archive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import crawl, rows, run_cli, wait_unlocked
from portal_crawler.warcread import read_record

MOMENTS = 10


def killed_crawl(archive: Path, url: str, after: float) -> None:
    env = {**os.environ, "PORTAL_FAST": "1"}
    process = subprocess.Popen([sys.executable, "-m", "portal_crawler", "crawl", "--full", "--archive", str(archive),
                                "--start-url", url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def replica():
    from portal_crawler.replica import Replica, ReplicaConfig
    with Replica(ReplicaConfig(articles=120, layout="legacy", seed=17, port=0)) as running:
        yield running


@pytest.fixture(scope="module")
def crawl_seconds(replica, tmp_path_factory: pytest.TempPathFactory) -> float:
    started = time.monotonic()
    assert crawl(tmp_path_factory.mktemp("timing") / "archive", replica.listing_url).returncode == 0
    return time.monotonic() - started


@pytest.mark.parametrize("moment", range(MOMENTS))
def test_kill_repair_and_rerun_leaves_every_article_once(moment: int, replica, crawl_seconds: float, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    killed_crawl(archive, replica.listing_url, after=0.4 + crawl_seconds * moment / MOMENTS)
    wait_unlocked(archive)
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
