"""The writer's session in the crawl process (PORTAL_WRITER=inline, the default on one CPU): the same archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import crawl, one_line, rows, run_cli

from portal_crawler.core.errors import UsageProblem
from portal_crawler.crawl import archive_run
from portal_crawler.crawl.archive_run import writes_inline


def test_auto_writes_inline_on_one_cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_run.os, "sched_getaffinity", lambda pid: {0})
    assert writes_inline("auto") is True
    monkeypatch.setattr(archive_run.os, "sched_getaffinity", lambda pid: {0, 1})
    assert writes_inline("auto") is False
    assert writes_inline("inline") is True and writes_inline("process") is False
    with pytest.raises(UsageProblem, match="PORTAL_WRITER must be one of auto, process, inline"):
        writes_inline("sideways")


def test_a_bad_choice_is_one_line_and_exit_2(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=5, layout="legacy")
    result = crawl(tmp_path / "archive", replica.listing_url, extra=("--full", "--set", "PORTAL_WRITER=sideways"))
    assert result.returncode == 2, result.stderr
    assert "PORTAL_WRITER='sideways': PORTAL_WRITER takes one of auto, process, inline" in one_line(result)


def _archive(archive: Path) -> tuple[list[tuple], list[tuple]]:
    db = archive / "catalogue.db"
    articles = [(r["id"], r["content_hash"], r["version"], r["quality"]) for r in rows(db, "SELECT * FROM articles")]
    captures = rows(db, "SELECT url, status, record_type, payload_digest, article_id FROM captures")
    return sorted(articles), sorted(tuple(c.values()) for c in captures)


def test_an_archive_written_inline_is_the_one_the_writer_process_writes(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=60, layout="legacy")
    written = {}
    for writer in ("process", "inline"):
        archive = tmp_path / writer
        result = crawl(archive, replica.listing_url, extra=("--full", "--set", f"PORTAL_WRITER={writer}"))
        assert result.returncode == 0, result.stdout + result.stderr
        assert run_cli("verify", "--archive", str(archive)).returncode == 0
        written[writer] = _archive(archive)
    articles, captures = written["inline"]
    assert len(articles) == 65 and any(c[2] == "response" and "/images/" in c[0] for c in captures)  # requisites too
    assert written["inline"] == written["process"]
    again = crawl(tmp_path / "inline", replica.listing_url, extra=("--set", "PORTAL_WRITER=inline"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (
        " 0 new," in again.stdout and rows(tmp_path / "inline" / "catalogue.db", "SELECT id FROM runs")[-1]["id"] == 2
    )
    log = next((tmp_path / "inline" / "logs").glob("*.log")).read_text()
    assert "the archive is written in the crawl process (one CPU)" in log


def test_an_unexpected_error_stops_the_writing_and_says_so() -> None:
    """Scrapy logs an exception in a signal handler and goes on: inline, it must stop the run instead."""
    from portal_crawler.writer.inline import InlineWriter
    from portal_crawler.writer.protocol import Capture

    abandoned: list[str] = []

    class Broken:
        def capture(self, message: object) -> None:
            raise KeyError("no such field")

        def abandon(self, cause: str) -> None:
            abandoned.append(cause)

        writer = type("W", (), {"current_filename": "x.warc.gz"})()

    inline = InlineWriter.__new__(InlineWriter)
    inline.session, inline.failure, inline._timer = Broken(), None, None  # type: ignore[assignment]
    assert inline.send(Capture.__new__(Capture)) is False
    assert inline.failure == "the archive writer failed (KeyError: 'no such field')"
    assert abandoned == [inline.failure]
    assert inline.send(Capture.__new__(Capture)) is False  # nothing more is written
