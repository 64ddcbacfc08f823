"""URL rules: the pager trap collapses, article variants collapse to one ID, offsite is refused."""

from __future__ import annotations

import pytest

from portal_crawler.extraction.profile import load_profile
from portal_crawler.extraction.urls import UrlRules

BASE = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def rules() -> UrlRules:
    return UrlRules(load_profile("mps"), extra_hosts=("127.0.0.1:8080", "localhost:8080"))


def test_pager_trap_keeps_only_last_page(rules: UrlRules) -> None:
    info = rules.classify(f"{BASE}/news-and-events.html?Page=100&Page=99&Page=97&Page=98&Page=99")
    assert (info.kind, info.page, info.url) == ("listing", 99, f"{BASE}/news-and-events.html?Page=99")
    assert rules.classify(f"{BASE}/news-and-events.html?Page=1").url == f"{BASE}/news-and-events.html"
    assert rules.classify(f"{BASE}/news.html?Page=3&Page=x").page == 1


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/news-events/mps-seeks-to-improve-t6294.html",
        f"{BASE}/news-events/another-slug-entirely-t6294.html?utm_source=x",
        "http://localhost:8080/news-events/mps-seeks-to-improve-t6294.html#top",
        "http://en.bocongan.gov.vn/default.aspx?ItemID=6294",
    ],
)
def test_article_variants_share_one_id(rules: UrlRules, url: str) -> None:
    info = rules.classify(url)
    assert (info.kind, info.article_id) == ("article", "t6294")
    assert "utm_source" not in info.url and "#" not in info.url


def test_current_scheme_article_and_requisites(rules: UrlRules) -> None:
    info = rules.classify("https://en.mps.gov.vn/article/communal-police-force-be-peoples-firm-support-1728975600")
    assert (info.kind, info.article_id, info.section) == ("article", "1728975600", "news")
    assert rules.classify(f"{BASE}/uploads/2024/10/15/1728975600-1.PNG").kind == "requisite"
    assert rules.classify(f"{BASE}/css/style.css").kind == "requisite"


def test_offsite_and_denied_urls_are_not_allowed(rules: UrlRules) -> None:
    assert rules.allowed(f"{BASE}/news.html")
    assert not rules.allowed("http://example.invalid/news.html")
    assert not rules.allowed(f"{BASE}/Admin/login.aspx")
    assert not rules.allowed(f"{BASE}/search?keyword=x")
    assert not rules.allowed("ftp://en.mps.gov.vn/news.html")
