"""`portal-crawler probe` and `scrapy check portal` against the replica in each layout and drift variant.

The probe runs in-process through the library (`crawl.probe.probe`) for most
cases and as `python -m portal_crawler probe` for the exit codes, the one line
on stderr and `--json`. Values the probe reports are held to the replica's own
articles (`Replica.article`), never to numbers typed here.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from helpers import one_line, run_cli

from portal_crawler import settings
from portal_crawler.cli import cli
from portal_crawler.crawl.fetcher import Politeness
from portal_crawler.crawl.probe import PageReport, exit_code, probe, problem_lines, read_article, read_listing
from portal_crawler.crawl.probe_text import cut, render
from portal_crawler.extraction.pages import text_response
from portal_crawler.extraction.profile import load_profile
from portal_crawler.extraction.urls import UrlRules
from portal_crawler.replica import Replica

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
PROFILE = load_profile("mps")
FAST = Politeness.from_settings(fast=True)
LAYOUTS = ("legacy", "current")
FIELDS = ("title", "published", "author", "paragraphs", "captions", "images")
# What each drift variant does to the article page: the fields no longer from their selector.
MOVED = {"wrapped": {"author": "byline-rule"}, "byline": {"author": "byline-rule"}, "time": {"published": "time"}}
UNTEMPLATED = ("renamed", "neutral", "redesign")  # neither listing nor article template matches
BY = re.compile(r"^by\s+", re.IGNORECASE)  # PORTAL.md: the author is the byline without its "by"


def probed(replica: Replica, articles: int = 2, **kwargs: object) -> list[PageReport]:
    return probe([replica.listing_url], PROFILE, articles=articles, politeness=FAST, **kwargs)  # type: ignore[arg-type]


def article_of(replica: Replica, report: PageReport):
    article_id = report.url.rsplit("-", 1)[-1].removesuffix(".html")
    article = replica.article(article_id)
    assert article is not None, report.url
    return article


def assert_values_are_the_replicas(replica: Replica, report: PageReport) -> None:
    """The probe's values are the article's own (whatever source gave them)."""
    article = article_of(replica, report)
    assert report.fields is not None
    assert report.fields["title"].value == " ".join(article.title.split())
    assert report.fields["published"].value == article.published.isoformat()
    assert report.fields["author"].value == (BY.sub("", article.byline).strip() if article.byline else None)
    assert report.fields["images"].count == len(article.images)


# -- pure: the verdicts' order, the lines, the saved pages ------------------------------------------------------


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        (["ok", "ok"], 0),
        (["ok", "failed"], 1),
        (["disallowed"], 1),
        (["failed", "drift", "ok"], 3),
        (["drift", "blocked", "failed"], 4),
    ],
)
def test_the_most_severe_verdict_wins(verdicts: list[str], code: int) -> None:
    reports = [PageReport(url=f"http://h/{i}", kind="article", verdict=v, problems=[v]) for i, v in enumerate(verdicts)]
    assert exit_code(reports) == code
    lines = problem_lines(reports, PROFILE)
    assert [line for line in lines if line.endswith(("failed", "disallowed"))] == [
        f"{r.url}: {r.verdict}" for r in reports if r.verdict in ("failed", "disallowed")
    ]
    assert bool(lines) == (code != 0)
    if code in (3, 4):
        assert lines[-1].startswith("layout drift on 1 of" if code == 3 else "blocked: 1 of")


def test_a_value_is_cut_to_one_line() -> None:
    assert cut("a\n b  c", 20) == "a b c"
    cut_down = cut("word " * 50, 20)
    assert len(cut_down) == 20 and cut_down.endswith("…") and "\n" not in cut_down


def saved_pages(kind: str) -> list[Path]:
    return sorted((GOLDEN / kind).glob("*/*.html"))


def saved_response(page: Path):
    meta = json.loads(page.with_suffix(".meta.json").read_text("utf-8"))
    response = text_response(meta["url"], meta["status"], [("Content-Type", meta["content_type"])], page.read_bytes())
    assert response is not None
    return response, json.loads(page.with_suffix(".json").read_text("utf-8"))


@pytest.mark.parametrize("page", saved_pages("article"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_saved_article_reads_as_its_expectation(page: Path) -> None:
    response, expected = saved_response(page)
    report = PageReport(url=response.url, kind="article")
    read_article(response, report, PROFILE, None)
    assert report.template == (None if expected["template"] == "fallback" else expected["template"])
    assert {name: f.source for name, f in (report.fields or {}).items()} == expected["field_sources"]
    assert report.fields is not None and report.fields["published"].value == expected["published"]
    assert report.fields["paragraphs"].count == len(expected["paragraphs"])
    assert report.verdict == ("ok" if expected["quality"] == "ok" else "drift")


@pytest.mark.parametrize("page", saved_pages("listing"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_saved_listing_reads_as_its_expectation(page: Path) -> None:
    response, expected = saved_response(page)
    report = PageReport(url=response.url, kind="listing")
    entries, _ = read_listing(response, report, PROFILE, UrlRules(PROFILE))
    assert report.template == expected["template"] and report.listing is not None
    assert [info.article_id for info in entries] == list(dict.fromkeys(e["id"] for e in expected["entries"]))
    assert report.verdict == ("ok" if expected["template"] and expected["entries"] else "drift")


def test_a_bad_url_is_usage() -> None:
    result = CliRunner().invoke(cli, ["probe", "ftp://127.0.0.1/x"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "absolute http(s) URL" in result.stderr


# -- the library, in-process: every layout, every variant ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_unaltered_replica_is_ok_everywhere(replica_factory, layout: str) -> None:
    replica = replica_factory(articles=20, layout=layout)
    reports = probed(replica)
    listing, *articles = reports
    assert [r.kind for r in reports] == ["listing", "article", "article"]
    assert listing.template == layout and listing.verdict == "ok" and listing.listing is not None
    assert listing.listing.entries == listing.listing.dates == 10 and listing.listing.unknown_links == []
    assert listing.listing.articles == [r.url for r in articles]
    for report in articles:
        assert report.template == layout and report.verdict == "ok" and report.problems == []
        assert report.found_on == replica.listing_url and report.status == 200
        assert {name: f.source for name, f in (report.fields or {}).items()} == dict.fromkeys(FIELDS, "selector")
        assert report.revision == PROFILE.revision(layout)
        assert_values_are_the_replicas(replica, report)
    assert exit_code(reports) == 0


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", sorted(MOVED))
def test_a_moved_field_is_named_with_its_fallback(replica_factory, layout: str, variant: str) -> None:
    replica = replica_factory(articles=20, layout=layout, drift=variant)
    listing, *articles = probed(replica)
    assert listing.template == layout and listing.verdict == "ok"  # these variants leave listings alone
    for report in articles:
        sources = {name: f.source for name, f in (report.fields or {}).items()}
        assert sources == {**dict.fromkeys(FIELDS, "selector"), **MOVED[variant]}
        assert report.template == layout and report.verdict == "drift"
        (name,) = MOVED[variant]
        assert f"{name}: the selector found nothing; taken from {MOVED[variant][name]}" in report.problems
        assert_values_are_the_replicas(replica, report)  # the fallback got it right
    text = render([listing, *articles])
    assert re.search(rf"\n  {name}\s+\S.*\s{re.escape(MOVED[variant][name])}\n", text), text
    assert text.endswith("3 pages: 1 ok, 2 drift")
    assert exit_code([listing, *articles]) == 3


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", UNTEMPLATED)
def test_no_template_means_every_field_from_a_fallback(replica_factory, layout: str, variant: str) -> None:
    replica = replica_factory(articles=20, layout=layout, drift=variant)
    listing, *articles = probed(replica)
    assert listing.template is None and listing.verdict == "drift" and listing.listing is not None
    assert listing.listing.entries == 10  # every article link is still read
    assert "no listing template matched" in listing.problems[0]
    assert len(articles) == 2
    for report in articles:
        assert report.template is None and report.revision == "fallback" and report.verdict == "drift"
        assert report.fields is not None and all(f.source != "selector" for f in report.fields.values())
        assert report.problems[0].startswith("no article template matched")
        assert report.fields["published"].value == article_of(replica, report).published.isoformat()
    text = render([listing, *articles])
    assert "  template    none: every article link read\n" in text
    assert text.count("  template    none: generic fallback\n") == 2
    assert exit_code([listing, *articles]) == 3


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_banner_changes_nothing_the_profile_reads(replica_factory, layout: str) -> None:
    replica = replica_factory(articles=20, layout=layout, drift="nobanner")
    reports = probed(replica)
    assert [r.verdict for r in reports] == ["ok", "ok", "ok"]
    for report in reports[1:]:
        assert {f.source for f in (report.fields or {}).values()} == {"selector"}
    assert exit_code(reports) == 0


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
def test_app_shells_are_walls(replica_factory, layout: str) -> None:
    replica = replica_factory(articles=20, layout=layout, drift="shell")
    listing, *articles = probed(replica)
    assert listing.verdict == "ok" and len(articles) == 2
    for report in articles:
        assert report.wall == "shell" and report.verdict == "blocked" and report.fields is None
        assert "empty app shell" in report.problems[0]
    assert "  wall        shell\n" in render([listing, *articles])
    assert exit_code([listing, *articles]) == 4


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", ["incapsula", "cloudflare"])
def test_a_challenge_is_a_wall_and_its_links_are_not_followed(replica_factory, layout: str, kind: str) -> None:
    replica = replica_factory(articles=20, layout=layout, drift="challenge", challenge_kind=kind)
    (report,) = probed(replica)
    assert report.wall == kind and report.verdict == "blocked" and report.listing is None
    assert report.status == (200 if kind == "incapsula" else 403)
    assert exit_code([report]) == 4
    assert render([report]).endswith("1 page: 1 blocked")


@pytest.mark.slow
def test_an_article_url_alone_and_an_unknown_url(replica_factory) -> None:
    replica = replica_factory(articles=20)
    article = replica.articles()[3]
    (alone,) = probe([replica.article_url(article.id)], PROFILE, politeness=FAST)
    assert alone.kind == "article" and alone.found_on is None and alone.verdict == "ok"
    home = probe([replica.base_url + "/"], PROFILE, articles=0, politeness=FAST)
    assert home[0].kind == "other" and home[0].read_as == "listing" and home[0].verdict == "drift"
    assert any("matches no article or listing pattern" in p for p in home[0].problems)


# -- politeness: identity, robots.txt, delay, gzip, size cap, redirects ---------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """A tiny server that records each request's path, headers and time, and answers gzip pages."""

    seen: ClassVar[list[tuple[str, dict[str, str], float]]] = []
    page = b"<html><body><div class='list-news'><div class='news-item'></div></div></body></html>"

    def do_GET(self) -> None:
        self.seen.append((self.path, dict(self.headers.items()), time.monotonic()))
        if self.path == "/robots.txt":
            body, headers = b"User-agent: *\nDisallow: /private\n", [("Content-Type", "text/plain")]
        else:
            body = gzip.compress(self.page)
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]
        self.send_response(200)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_one_request_at_a_time_with_the_crawls_identity_and_delay(recorder: str) -> None:
    polite = Politeness.from_settings()
    assert polite.user_agent == settings.USER_AGENT and polite.delay == settings.DOWNLOAD_DELAY
    slow = Politeness(polite.user_agent, polite.headers, delay=0.3, timeout=5, max_bytes=polite.max_bytes)
    urls = [f"{recorder}/news.html", f"{recorder}/news.html?Page=2", f"{recorder}/private/news.html"]
    reports = probe(urls, PROFILE, politeness=slow)
    assert [path for path, _, _ in Recorder.seen] == ["/robots.txt", "/news.html", "/news.html?Page=2"]
    for _, headers, _ in Recorder.seen:
        assert headers["User-Agent"] == settings.USER_AGENT and "gzip" in headers["Accept-Encoding"]
    times = [at for _, _, at in Recorder.seen]
    assert all(later - earlier >= 0.29 for earlier, later in itertools.pairwise(times)), times
    assert reports[0].template == "legacy" and reports[0].status == 200  # the gzip body was decoded and read
    assert reports[2].verdict == "disallowed" and reports[2].problems == ["disallowed by robots.txt (not fetched)"]
    assert exit_code(reports) == 3  # the listing has no entries: drift wins over the page not fetched


@pytest.mark.slow
def test_a_page_over_the_size_cap_is_refused(replica_factory) -> None:
    replica = replica_factory(articles=5)
    small = Politeness(FAST.user_agent, FAST.headers, delay=0, timeout=5, max_bytes=2000)
    (report,) = probe([replica.article_url(replica.articles()[0].id)], PROFILE, politeness=small)
    assert report.verdict == "failed" and "larger than DOWNLOAD_MAXSIZE (2000 bytes)" in report.problems[0]
    assert exit_code([report]) == 1


@pytest.mark.slow
def test_a_redirect_off_the_hosts_is_not_followed(replica_factory) -> None:
    replica = replica_factory(articles=5)
    replica.set_faults(redirect_offsite="http://offsite.invalid/news.html")
    (report,) = probe([replica.base_url + "/go-away"], PROFILE, politeness=FAST)
    assert report.verdict == "disallowed" and "redirected to http://offsite.invalid/news.html" in report.problems[0]


# -- the command, in a subprocess: output, exit codes, one line on stderr -----------------------------------------


@pytest.mark.slow
def test_the_command_on_the_unaltered_replica(replica_factory, tmp_path: Path) -> None:
    replica = replica_factory(articles=20)
    done = subprocess.run(
        [sys.executable, "-m", "portal_crawler", "probe", replica.listing_url, "--articles", "2"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PORTAL_FAST": "1", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith(f"listing  {replica.listing_url}\n  status      200\n  template    legacy\n")
    assert done.stdout.count("  verdict     ok\n") == 3 and done.stdout.rstrip().endswith("3 pages: 3 ok")
    assert list(tmp_path.iterdir()) == []  # writes nothing


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variant", "code", "says"),
    [("neutral", 3, "layout drift on 3 of 3 pages"), ("challenge", 4, "blocked: 1 of 1 pages were challenge")],
)
def test_the_command_exits_with_the_verdict(replica_factory, variant: str, code: int, says: str) -> None:
    replica = replica_factory(articles=20, drift=variant)
    done = run_cli("probe", replica.listing_url, "--articles", "2", "--json", timeout=120)
    assert done.returncode == code and one_line(done).startswith(f"portal-crawler: {says}")
    pages = json.loads(done.stdout)
    assert pages[0]["url"] == replica.listing_url and pages[0]["template"] is None
    assert {p["verdict"] for p in pages} == {"drift" if code == 3 else "blocked"}
    if variant == "neutral":
        assert [p["fields"]["title"]["source"] for p in pages[1:]] == ["trafilatura", "trafilatura"]


@pytest.mark.slow
def test_a_page_that_cannot_be_fetched_is_one_line_and_exit_1() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    done = run_cli("probe", f"http://127.0.0.1:{port}/news-and-events.html", timeout=60)
    assert done.returncode == 1
    assert (
        one_line(done)
        == f"portal-crawler: http://127.0.0.1:{port}/news-and-events.html: cannot fetch: connection refused"
    )
    assert "  verdict     failed" in done.stdout


@pytest.mark.slow
def test_probe_on_the_url_the_drift_alarm_names(replica_factory, tmp_path: Path) -> None:
    replica = replica_factory(articles=20, drift="time")
    crawl = run_cli("crawl", "--archive", str(tmp_path / "a"), "--start-url", replica.listing_url, "--max-pages", "1")
    assert crawl.returncode == 3, crawl.stderr
    named = re.search(r"run 'portal-crawler probe (\S+)'", one_line(crawl))
    assert named is not None
    (report,) = probe([named.group(1)], PROFILE, politeness=FAST)
    assert report.kind == "article" and report.verdict == "drift"
    assert report.fields is not None and report.fields["published"].source == "time"


# -- scrapy check portal ------------------------------------------------------------------------------------------


def scrapy_check(replica: Replica, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    archive = tmp_path / "check-archive"
    fast = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", f"PORTAL_ARCHIVE_DIR={archive}"]
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "check", "portal", *fast],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PORTAL_CHECK_BASE": replica.base_url},
        timeout=120,
    )
    assert not archive.exists(), "scrapy check archived something"
    return done


@pytest.mark.slow
def test_scrapy_check_runs_the_contracts(replica_factory, tmp_path: Path) -> None:
    replica = replica_factory(articles=20)
    done = scrapy_check(replica, tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^Ran 8 contracts in ", done.stderr, re.MULTILINE) and done.stderr.rstrip().endswith("OK")
    counts = replica.counts()
    for path in ("/news-and-events.html", "/css/style.css", "/news-events/"):
        assert any(target.startswith(path) for target in counts), (path, counts)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variant", "failing"),
    [("neutral", ["parse_article (@article_fields", "parse_listing (@listing_template"]), ("time", ["published"])],
)
def test_scrapy_check_fails_on_drift(replica_factory, tmp_path: Path, variant: str, failing: list[str]) -> None:
    replica = replica_factory(articles=20, drift=variant)
    done = scrapy_check(replica, tmp_path)
    assert done.returncode == 1
    assert f"FAILED (failures={len(failing) if variant == 'neutral' else 1})" in done.stderr
    for text in failing:
        assert text in done.stderr
