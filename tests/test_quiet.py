"""Cron mails only trouble: `crawl` and `verify` print nothing on success off a terminal, one line on failure.

The commands run as cron runs them: stdout and stderr are pipes, not a
terminal. `--summary` asks for the summary line anyway; on a terminal (a pty
here) it is printed unasked. Nothing of the summary is lost either way: the
run's figures are in `runs`, its story in the log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import rows, run_cli

from portal_crawler.replica import Replica, ReplicaConfig

pytestmark = pytest.mark.slow

SUMMARY = re.compile(r"run 1 full ok: \d+ requests, 10 new \(10 ok, 0 partial, 0 fallback\), .* -> (?P<archive>\S+)\n")


def crawl(archive: Path, url: str, *options: str) -> subprocess.CompletedProcess[str]:
    return run_cli("crawl", "--archive", str(archive), "--full", "--start-url", url, *options)


def test_a_good_crawl_prints_nothing(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=5)
    archive = tmp_path / "archive"
    done = crawl(archive, replica.listing_url)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    (run,) = rows(archive / "catalogue.db", "SELECT status, articles_new, requests, errors FROM runs")
    assert run["status"] == "ok" and run["articles_new"] == 10 and run["requests"] > 10 and run["errors"] == 0
    (log,) = (archive / "logs").glob("crawl-*.log")
    assert "Spider closed (finished)" in log.read_text()


def test_summary_prints_the_summary_line(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=5)
    archive = tmp_path / "archive"
    done = crawl(archive, replica.listing_url, "--summary")
    assert done.returncode == 0 and done.stderr == ""
    assert SUMMARY.fullmatch(done.stdout), done.stdout


def test_on_a_terminal_the_summary_is_printed_unasked(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=5)
    primary, secondary = os.openpty()
    args = ["crawl", "--archive", str(tmp_path / "a"), "--full", "--start-url", replica.listing_url]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "portal_crawler", *args],
            stdout=secondary,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PORTAL_FAST": "1"},
            timeout=300,
        )
        os.close(secondary)
        shown = b""
        while chunk := _read(primary):
            shown += chunk
    finally:
        os.close(primary)
    assert done.returncode == 0 and done.stderr == ""
    assert SUMMARY.fullmatch(shown.decode().replace("\r\n", "\n")), shown


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the terminal's other end is closed and everything was read
        return b""


def test_a_crawl_of_a_stopped_portal_prints_one_line_with_the_cause(tmp_path: Path) -> None:
    with Replica(ReplicaConfig(articles=0, seed=1, host="127.0.0.1", port=0)) as replica:
        url = replica.listing_url
    archive = tmp_path / "archive"
    done = crawl(archive, url)  # nothing listens on that port any more: connection refused
    assert done.returncode == 1 and done.stdout == ""
    (log,) = (archive / "logs").glob("crawl-*.log")
    assert done.stderr == f"portal-crawler: 1 error, the first {url}: connection refused (log: {log})\n"
    (run,) = rows(archive / "catalogue.db", "SELECT status, errors, error_summary FROM runs")
    assert run == {"status": "errors", "errors": 1, "error_summary": f"{url}: connection refused"}
    assert f"failed {url}" in log.read_text()
    shown = run_cli("stats", "--archive", str(archive))
    assert f"{url}: connection refused" in shown.stdout  # the desk shows why, from runs


@pytest.mark.parametrize(
    ("fault", "options", "reason"),
    [
        ({"error_first": {"status": 500, "pattern": "{id}"}}, (), "HTTP status 500"),
        ({"slow": {"seconds": 3, "pattern": "{id}"}}, ("-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=1"), "timeout"),
    ],
    ids=["status", "timeout"],
)
def test_the_first_failed_article_and_why(
    tmp_path: Path, replica_factory, fault: dict, options: tuple[str, ...], reason: str
) -> None:
    replica = replica_factory(articles=5)
    article = replica.articles()[0].id
    replica.set_faults(**{name: {**spec, "pattern": article} for name, spec in fault.items()})
    archive = tmp_path / "archive"
    done = crawl(archive, replica.listing_url, *options)
    assert done.returncode == 1 and done.stdout == "", done.stderr
    (log,) = (archive / "logs").glob("crawl-*.log")
    line = re.fullmatch(rf"portal-crawler: 1 error, the first (\S+): {reason} \(log: (\S+)\)\n", done.stderr)
    assert line is not None, done.stderr
    assert article in line[1] and line[2] == str(log)
    (run,) = rows(archive / "catalogue.db", "SELECT status, articles_new FROM runs")
    assert run == {"status": "errors", "articles_new": 9}  # the others are archived: only one failed


def test_verify_prints_nothing_on_a_clean_archive_and_its_verdict_with_summary(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=5)
    archive = tmp_path / "archive"
    assert crawl(archive, replica.listing_url).returncode == 0
    quiet = run_cli("verify", "--archive", str(archive))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    told = run_cli("verify", "--archive", str(archive), "--summary")
    assert told.returncode == 0 and told.stderr == "" and told.stdout.endswith(" captures checked: ok\n")
    (path,) = (archive / "warc").glob("*.warc.gz")
    path.write_bytes(path.read_bytes()[:-100])
    broken = run_cli("verify", "--archive", str(archive))
    assert broken.returncode == 1 and broken.stderr and "problems" in broken.stdout  # trouble is always told
