"""The profile's JSON API source as data: validation, URL kinds, and reading answers (no network)."""

from __future__ import annotations

import json
import tomllib
from importlib import resources

import pytest

from portal_crawler.catalogue.ingest import PageCapture, read_page
from portal_crawler.extraction import api
from portal_crawler.extraction.profile import ProfileError, load_profile, parse_profile
from portal_crawler.extraction.urls import UrlRules

REPLICA = "http://127.0.0.1:8731"
LISTING = f"{REPLICA}/backend-portal/articles/search?dateFrom=&dateTo=&category_id=1065&page=0&size=10"


def shipped() -> dict:
    return tomllib.loads((resources.files("portal_crawler.profiles") / "mps.toml").read_text())


@pytest.fixture(scope="module")
def profile():
    return load_profile("mps")


@pytest.fixture(scope="module")
def rules(profile) -> UrlRules:
    return UrlRules(profile, ("127.0.0.1:8731",))


DETAIL = {
    "code": 200,
    "data": {
        "articleId": 199997,
        "title": "  Communal police force be people’s firm support ",
        "url": "/article/communal-police-force-be-peoples-firm-support-1728975600",
        "publishTime": "2024-10-15T14:00:00+07:00",
        "author": "by Hoai Nam",
        "contentHtml": (
            "<p>First  paragraph.</p><figure class='image'><img src='/uploads/2024/10/15/1728975600-1.jpg'>"
            "<figcaption>A caption</figcaption></figure><p>Second paragraph.</p><p>Lượt xem: 12</p>"
        ),
        "images": [{"url": "/uploads/2024/10/15/1728975600-1.jpg", "caption": "A caption"}],
    },
}


@pytest.mark.parametrize(
    "mutate, key, words",
    [
        (lambda d: d["api"]["listing"].__setitem__("items", "data.content[*"), "api.listing.items", "JMESPath"),
        (lambda d: d["api"]["detail"].__setitem__("body", "contentHtml.."), "api.detail.body", "contentHtml.."),
        (lambda d: d["api"]["detail"].__setitem__("author", 7), "api.detail.author", "expected str"),
        (lambda d: d["api"]["listing"]["params"].pop("page"), "api.listing.params", "{page}"),
        (lambda d: d["api"]["detail"].__setitem__("path", "/backend-portal/articles"), "api.detail.path", "{id}"),
        (lambda d: d["api"].__setitem__("base", "api-portal.bocongan.gov.vn"), "api.base", "scheme://host"),
        (lambda d: d["api"].__setitem__("shell", "div#[["), "api.shell", "CSS"),
        (lambda d: d["api"].pop("listing"), "api.listing", "missing"),
    ],
)
def test_a_bad_api_table_names_file_key_and_expression(mutate, key: str, words: str) -> None:
    data = shipped()
    mutate(data)
    with pytest.raises(ProfileError) as caught:
        parse_profile(data, "profiles/broken.toml")
    assert str(caught.value).startswith(f"profiles/broken.toml: {key}:") and words in str(caught.value)


def test_listing_urls_keep_the_front_ends_parameter_order(profile) -> None:
    source = profile.api
    assert source.listing_url(3, REPLICA) == LISTING.replace("page=0", "page=3")
    assert source.listing_url(0) == (
        "https://api-portal.bocongan.gov.vn/backend-portal/articles/search"
        "?dateFrom=&dateTo=&category_id=1065&page=0&size=10"
    )
    assert dict(source.headers) == {"Portal-Id": "28"}


def test_api_urls_have_their_own_kinds_and_old_cms_links_map_to_the_old_id(rules: UrlRules) -> None:
    assert rules.classify(LISTING).kind == "api_listing"
    detail = rules.classify(f"{REPLICA}/backend-portal/articles/199997")
    assert (detail.kind, detail.article_id) == ("api_article", None)
    moved = rules.classify("https://en.mps.gov.vn/article/minister-receives-ambassador-d5-t9402")
    assert (moved.kind, moved.article_id) == ("article", "t9402")
    assert rules.classify("https://en.mps.gov.vn/bai-viet/bo-truong-d12-t51").article_id == "t51"


def test_a_listing_answer_maps_the_profiles_field_names(profile, rules: UrlRules) -> None:
    item = {"articleId": 7, "title": "T", "summary": " A  summary ", "publishTime": "2024-10-15T23:30:00+00:00"}
    document = {"data": {"content": [{**item, "url": "/article/some-slug-1728975600"}, {"title": "no id"}]}}
    entries = api.listing_entries(document, profile.api, rules, LISTING, profile.zone)
    assert len(entries) == 1  # an item without an ID is no entry
    entry = entries[0]
    assert (entry.info.article_id, entry.info.url) == ("1728975600", f"{REPLICA}/article/some-slug-1728975600")
    assert entry.detail_url == f"{REPLICA}/backend-portal/articles/7"
    assert (entry.summary, entry.listing_date) == ("A summary", "2024-10-16")  # the day in Hanoi
    with pytest.raises(api.ApiAnswerError, match=r"no list of items at 'data\.content'"):
        api.listing_entries({"data": {"items": []}}, profile.api, rules, LISTING, profile.zone)


def test_relative_urls_join_the_profiles_site_when_the_api_is_the_profiles_own(profile, rules: UrlRules) -> None:
    live = "https://api-portal.bocongan.gov.vn/backend-portal/articles/search?page=0"
    assert api.page_base(profile.api, live) == "https://en.mps.gov.vn"
    assert api.page_base(profile.api, LISTING) == REPLICA  # a moved API serves the pages too


def test_a_detail_answer_is_an_article_read_with_the_body_rules(profile, rules: UrlRules) -> None:
    detail = f"{REPLICA}/backend-portal/articles/199997"
    article = api.api_article(DETAIL, detail, profile, rules, capture_id=3, fetched_at="2026-12-01T00:00:00Z")
    assert article.id == "1728975600" and article.url.endswith(
        "/article/communal-police-force-be-peoples-firm-support-1728975600"
    )
    assert article.title == "Communal police force be people’s firm support"
    assert (article.published, article.author) == ("2024-10-15", "Hoai Nam")
    assert article.paragraphs == ["First paragraph.", "Second paragraph."]  # the drop pattern applies
    assert article.captions == ["A caption"]
    assert article.images == [f"{REPLICA}/uploads/2024/10/15/1728975600-1.jpg"]
    assert (article.template, article.quality, article.profile_revision) == ("api", "ok", profile.revision("api"))


def test_a_renamed_field_leaves_the_article_partial_with_the_field_named(profile, rules: UrlRules) -> None:
    renamed = json.loads(json.dumps(DETAIL))
    renamed["data"]["writer"] = renamed["data"].pop("author")
    article = api.api_article(
        renamed, f"{REPLICA}/backend-portal/articles/1", profile, rules, capture_id=1, fetched_at=None
    )
    assert article.quality == "partial" and article.field_sources["author"] == "none"
    assert "author: not found" in article.problems


def capture(url: str, body: bytes, content_type: str = "application/json") -> PageCapture:
    return PageCapture(url, 200, [("Content-Type", content_type)], body, 1, "2026-12-01T00:00:00Z")


def test_answers_that_are_not_what_the_profile_says_are_errors_never_articles(profile, rules: UrlRules) -> None:
    detail = f"{REPLICA}/backend-portal/articles/199997"
    info = rules.classify(detail)
    wall = read_page(
        capture(detail, b"<html><body>Service temporarily unavailable</body></html>"), info, profile, rules
    )
    assert wall.kind == "error" and "not JSON" in (wall.problem or "")
    empty = read_page(capture(detail, b'{"code": 404, "data": null}'), info, profile, rules)
    assert empty.kind == "error" and "no article at 'data'" in (empty.problem or "")
    good = read_page(capture(detail, json.dumps(DETAIL).encode()), info, profile, rules)
    assert good.kind == "article" and good.article_id == "1728975600"


def test_an_app_shell_is_archived_but_never_an_article(profile, rules: UrlRules) -> None:
    url = f"{REPLICA}/article/communal-police-force-be-peoples-firm-support-1728975600"
    shell = b'<html><head><title>MPS</title></head><body><div id="portal-app" data-view="article"></div></body></html>'
    reading = read_page(capture(url, shell, "text/html; charset=utf-8"), rules.classify(url), profile, rules)
    assert reading.kind == "skip"
    page = shell.replace(b'<div id="portal-app" data-view="article"></div>', b"<h1>A title</h1><p>Some text.</p>")
    assert read_page(capture(url, page, "text/html"), rules.classify(url), profile, rules).kind == "article"


def test_the_profiles_own_app_shell_is_no_wall_but_another_empty_shell_is(profile) -> None:
    from scrapy.http import HtmlResponse

    from portal_crawler.crawl.blocking import BlockWatch

    data = shipped()
    data["api"]["shell"] = "div#app"
    own = parse_profile(data, "profiles/own.toml")
    url = f"{REPLICA}/article/some-slug-1728975600"
    shell = b'<html><body><div id="app"></div><script src="/js/app.js"></script></body></html>'
    page = capture(url, shell, "text/html; charset=utf-8")
    assert read_page(page, UrlRules(own, ("127.0.0.1:8731",)).classify(url), own, UrlRules(own)).kind == "skip"
    rules = UrlRules(profile, ("127.0.0.1:8731",))
    assert read_page(page, rules.classify(url), profile, rules).kind == "blocked"  # not this profile's shell
    response = HtmlResponse(url, body=shell, headers={"Content-Type": "text/html; charset=utf-8"})
    assert BlockWatch(1, own.api.shell).see(response) is None
    assert BlockWatch(1, profile.api.shell).see(response) is not None  # one wall in a row stops a streak of 1


@pytest.mark.parametrize("listed", [True, False], ids=["images-listed", "images-in-the-body-only"])
def test_the_crawl_follows_the_page_and_images_the_article_has(profile, rules: UrlRules, listed: bool) -> None:
    document = json.loads(json.dumps(DETAIL))
    if not listed:
        document["data"].pop("images")  # the links then come from the body HTML, as the article's do
    detail = f"{REPLICA}/backend-portal/articles/199997"
    article = api.api_article(document, detail, profile, rules, capture_id=None, fetched_at=None)
    page, images = api.detail_links(document, detail, profile, rules)
    assert (page.url, page.article_id, images) == (article.url, article.id, article.images) and images
    with pytest.raises(api.ApiAnswerError, match="no article at 'data'"):
        api.detail_links({"data": None}, detail, profile, rules)
