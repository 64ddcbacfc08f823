"""Bot walls and app shells: `wall_kind` fires on every challenge and shell and on no page of the portal.

Pages: every saved golden page (with the headers served, for the drift ones), and every kind of
page the replica serves in each layout and drift variant, rendered in-process (no socket); one
test asks a started replica over HTTP for its challenges, as the crawl meets them.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal_crawler.extraction.walls import wall_kind
from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.replica import walls as replica_walls
from portal_crawler.replica.replica import LISTINGS
from portal_crawler.replica.responses import Response

GOLDEN = Path(__file__).resolve().parent / "golden"
LAYOUTS = ("legacy", "current")
MARKUP = (None, "renamed", "neutral", "wrapped", "time", "byline", "nobanner", "redesign")


def golden_pages() -> list[Path]:
    return sorted(GOLDEN.glob("*/*/*.html"))


def expected_kind(meta: dict) -> str | None:
    drift = meta["source"].get("drift", {})
    if drift.get("variant") == "challenge":
        return drift["challenge_kind"]
    return "shell" if drift.get("variant") == "shell" else None


@pytest.mark.parametrize("page", golden_pages(), ids=lambda p: p.relative_to(GOLDEN).with_suffix("").as_posix())
def test_golden_page(page: Path) -> None:
    meta = json.loads(page.with_suffix(".meta.json").read_text("utf-8"))
    headers = [tuple(h) for h in meta.get("headers", [("Content-Type", meta["content_type"])])]
    text = page.read_bytes().decode("utf-8", "replace")
    assert wall_kind(meta["status"], headers, text) == expected_kind(meta)


def test_the_golden_pages_hold_walls_of_each_kind() -> None:
    kinds = [expected_kind(json.loads(p.with_suffix(".meta.json").read_text("utf-8"))) for p in golden_pages()]
    assert {"incapsula", "cloudflare", "shell"} <= set(kinds) and kinds.count(None) >= 50


def as_served(response: Response) -> tuple[int, list[tuple[str, str]], str]:
    headers = [("Content-Type", response.content_type), *response.headers]
    headers += [("Server", response.server)] if response.server else []
    return response.status, headers, response.body.decode("utf-8", "replace")


def targets(replica: Replica) -> list[str]:
    """Home, listing pages (one past the last), every article, a missing page, robots.txt."""
    listing = LISTINGS[replica.config.layout]
    pages = ["/", listing, f"{listing}?Page=2", f"{listing}?Page=999", "/no-such-page.html", "/robots.txt"]
    return pages + [a.url_path for a in replica.articles()]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", MARKUP)
def test_no_page_of_the_replica_is_a_wall(layout: str, variant: str | None) -> None:
    replica = Replica(ReplicaConfig(articles=20, layout=layout, drift=variant))
    for target in targets(replica):
        assert wall_kind(*as_served(replica.site.respond(target))) is None, target


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_app_shell_is_a_shell(layout: str) -> None:
    replica = Replica(ReplicaConfig(articles=20, layout=layout, drift="shell"))
    for article in replica.articles():
        assert wall_kind(*as_served(replica.site.respond(article.url_path))) == "shell"


@pytest.mark.parametrize("kind", replica_walls.KINDS)
@pytest.mark.parametrize("status", [None, 200, 403, 429, 503])
def test_every_challenge_is_its_kind_whatever_its_status(kind: str, status: int | None) -> None:
    for number in range(5):
        assert wall_kind(*as_served(replica_walls.challenge(kind, number, status))) == kind


@pytest.mark.slow
def test_challenges_over_http_as_the_crawl_meets_them() -> None:
    for kind in replica_walls.KINDS:
        with Replica(ReplicaConfig(articles=5, layout="current", drift="challenge", challenge_kind=kind)) as replica:
            for article in replica.articles():
                status, headers, text = fetch(replica.base_url + article.url_path)
                assert wall_kind(status, headers, text) == kind


def fetch(url: str) -> tuple[int, list[tuple[str, str]], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.getheaders(), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, list(error.headers.items()), error.read().decode("utf-8", "replace")


ARTICLE = (GOLDEN / "article" / "current" / "seed-002.html").read_text("utf-8")
INJECTED = {
    "incapsula script": '<script src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e3a6e6fffd425f7e032f3"></script>',
    "cloudflare jsd": "<script>(function(){var a=document.createElement('script');"
    "a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';document.head.appendChild(a)})();</script>",
}
COOKIES = [
    ("Set-Cookie", "visid_incap_2461867=abc; path=/"),
    ("Set-Cookie", "incap_ses_1185_2461867=def; path=/"),
    ("Set-Cookie", "__cf_bm=ghi; path=/"),
]


@pytest.mark.parametrize("name", INJECTED)
def test_a_real_page_with_a_cdns_injected_script_and_cookies_is_no_wall(name: str) -> None:
    page = ARTICLE.replace("</body>", INJECTED[name] + "</body>", 1)
    assert wall_kind(200, [("Content-Type", "text/html"), *COOKIES], page) is None


def test_a_refusing_answer_with_a_challenge_body_is_a_challenge() -> None:
    captcha = "<html><head><title>Security check</title></head><body><h1>Please complete the CAPTCHA</h1></body></html>"
    assert wall_kind(429, [], captcha) == "challenge"
    assert wall_kind(403, [], "<html><body>Checking your browser before accessing the site.</body></html>")
    assert wall_kind(429, [], "<html><body>Too many requests, slow down.</body></html>") is None
    assert wall_kind(200, [], captcha.replace("<h1>", "<p>Our CAPTCHA policy</p><h1>")) is None  # a page about it


def test_cloudflares_header_alone_marks_its_challenge() -> None:
    assert wall_kind(403, [("cf-mitigated", "challenge")], "<html></html>") == "cloudflare"
    assert wall_kind(200, [("CF-Mitigated", "challenge")], ARTICLE) == "cloudflare"


def test_a_shell_needs_a_mount_point_scripts_and_no_text() -> None:
    state = "<script>window.__STATE__=" + "{" + '"k":"v",' * 4000 + "}</script>"
    shell = f'<!DOCTYPE html><html><head>{state}</head><body><div id="root"></div></body></html>'
    assert wall_kind(200, [], shell) == "shell"
    assert wall_kind(404, [], shell) is None
    assert wall_kind(200, [], shell.replace("<script>", "<style>").replace("</script>", "</style>")) is None
    text = "<p>" + "Words of a real page. " * 20 + "</p>"
    assert wall_kind(200, [], shell.replace('<div id="root"></div>', '<div id="root">' + text + "</div>")) is None
    assert wall_kind(200, [], "<html><body><script>x()</script><p>short</p></body></html>") is None  # no mount


def test_it_is_cheap_on_a_large_page() -> None:
    headers = [("Content-Type", "text/html; charset=utf-8"), *COOKIES]
    started = time.perf_counter()
    for _ in range(200):
        wall_kind(200, headers, ARTICLE)
    per_call = (time.perf_counter() - started) / 200
    assert len(ARTICLE) > 20000 and per_call < 0.001, f"{per_call * 1e6:.0f} µs per 30 KB page"
