"""Bad input to crawl, show, verify, reindex and replay: one clear line on stderr, non-zero, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli


@pytest.fixture
def not_sqlite(tmp_path: Path) -> Path:
    archive = tmp_path / "junk"
    archive.mkdir()
    (archive / "catalogue.db").write_bytes(b"this is not a database" * 100)
    return archive


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("crawl", "--start-url", "not a url"), 2, "bad --start-url"),
        (("crawl", "--start-url", "ftp://en.mps.gov.vn/x"), 2, "bad --start-url"),
        (("crawl", "--profile", "nosuchportal"), 2, "no such profile"),
        (("crawl", "-s", "lowercase=1"), 2, "bad --set"),
        (("show", "t1"), 2, "no archive at"),
        (("verify",), 2, "no archive at"),
        (("reindex",), 2, "no WARC directory"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args, code: int, message: str) -> None:
    result = run_cli(*args[:1], "--archive", str(tmp_path / "missing"), *args[1:])
    assert result.returncode == code
    assert message in one_line(result)


def test_broken_profile_names_file_and_key(tmp_path: Path) -> None:
    from importlib import resources

    shipped = (resources.files("portal_crawler.profiles") / "mps.toml").read_text()
    profile = tmp_path / "broken.toml"
    profile.write_text(shipped.replace("listing = ['^/news-and-events", "listing = ['(^/news-and-events"))
    result = run_cli("crawl", "--archive", str(tmp_path / "a"), "--profile", str(profile))
    assert result.returncode == 2
    assert f"{profile}: urls.listing[0]: bad regex" in one_line(result)


def test_non_sqlite_catalogue_is_refused_untouched(not_sqlite: Path) -> None:
    before = (not_sqlite / "catalogue.db").read_bytes()
    for args in (("show", "t1"), ("crawl", "--start-url", "http://127.0.0.1:9/news.html")):
        result = run_cli(args[0], "--archive", str(not_sqlite), *args[1:])
        assert result.returncode == 2
        assert "not a usable SQLite catalogue" in one_line(result)
    assert (not_sqlite / "catalogue.db").read_bytes() == before


def test_corrupt_warc_for_show_is_one_line(tmp_path: Path, replica_factory) -> None:
    from conftest import crawl

    replica = replica_factory(articles=3)
    archive = tmp_path / "archive"
    assert crawl(archive, replica.listing_url).returncode == 0
    for path in (archive / "warc").glob("*.warc.gz"):
        path.write_bytes(path.read_bytes()[:2000])
    result = run_cli("show", "--archive", str(archive), "t6294", "--html")
    assert result.returncode == 1
    assert "offset" in one_line(result)


def test_replay_of_a_missing_archive(tmp_path: Path) -> None:
    result = run_cli("replay", "--archive", str(tmp_path / "none"), "--port", "0")
    assert result.returncode != 0
    assert "no archive" in one_line(result)
