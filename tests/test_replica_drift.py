"""The replica's layout drift: each variant's markup, its content kept, challenge pages, app shells.

Markup tests render pages in-process (``Replica.site.respond``, no socket);
the bot-wall and control tests go over HTTP to 127.0.0.1 and are marked slow.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from lxml import html as lxml_html
from parsel import Selector

from portal_crawler.extraction.extract import select
from portal_crawler.extraction.profile import load_profile
from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.replica.drift import VARIANTS, Drift
from portal_crawler.replica.serve import parser

MARKUP = ("renamed", "neutral", "wrapped", "time", "byline", "nobanner", "redesign")
LAYOUTS = ("legacy", "current")
PROFILE = load_profile("mps")
BASE = {
    "legacy": {
        "title": "h1.detail-title",
        "date": "div.detail-date",
        "body": "div.detail-content",
        "caption": "td.image-caption",
        "byline": "p[style] strong",
    },
    "current": {
        "title": "h1.article__title",
        "date": "div.article__meta time",
        "body": "div.article__body",
        "caption": "figure figcaption",
        "byline": "p.author",
    },
}
# Where each field lives in each variant: the contract the drift alarm and fallback tests rely on.
SELECTORS = {
    ("legacy", "renamed"): {**BASE["legacy"], "title": "h1.article-title", "date": "div.article-date"}
    | {"body": "div.article-body", "caption": "td.photo-caption"},
    ("current", "renamed"): {"title": "h1.article-title", "date": "div.article-date time", "body": "div.article-body"}
    | {"caption": "figure.photo figcaption", "byline": "p.article-author"},
    ("legacy", "neutral"): {**BASE["legacy"], "title": "h1.t-1", "date": "div.m-1", "body": "div.b-1"}
    | {"caption": "td.c-1"},
    ("current", "neutral"): {"title": "h1.t-1", "date": "div.m-1 time", "body": "div.b-1"}
    | {"caption": "figure.f-1 figcaption", "byline": "p.m-2"},
    ("legacy", "wrapped"): {**BASE["legacy"], "body": "div.detail-content > div.content-wrap > div.content-text"},
    ("current", "wrapped"): {**BASE["current"], "body": "div.article__body > div.content-wrap > div.content-text"},
    ("legacy", "time"): {**BASE["legacy"], "date": "div.news-detail > time[datetime]"},
    ("current", "time"): {**BASE["current"], "date": "article.article-detail > time[datetime]"},
    ("legacy", "byline"): {**BASE["legacy"], "byline": "div.detail-content > span.author"},
    ("current", "byline"): {**BASE["current"], "byline": "div.article__body > span.author"},
    ("legacy", "nobanner"): BASE["legacy"],
    ("current", "nobanner"): BASE["current"],
}
REDESIGN = {
    "title": "div.post-view > h1.post-headline",
    "date": "div.post-info > time[datetime]",
    "body": "div.post-content > div.post-content-inner > div.post-text",
    "caption": "figure.post-photo figcaption",
    "byline": "div.post-text > span.author",
}


def fold(text: str | None) -> str:
    return " ".join((text or "").split())


def replica(layout: str, **config: object) -> Replica:
    """A replica that is never started: pages come from ``site.respond``."""
    return Replica(ReplicaConfig(articles=12, layout=layout, seed=4, **config))


def text_of(rep: Replica, target: str) -> str:
    response = rep.site.respond(target)
    assert response.status == 200, target
    return response.body.decode("utf-8")


def doc_of(rep: Replica, target: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(text_of(rep, target))


def classes(page: str) -> set[str]:
    return {token for value in re.findall(r'class="([^"]*)"', page) for token in value.split()}


def fields(doc: lxml_html.HtmlElement, where: dict[str, str]) -> dict:
    """The article's fields read with one variant's selectors."""
    body = doc.cssselect(where["body"])
    assert len(body) == 1, where["body"]
    dates = doc.cssselect(where["date"])
    return {
        "title": [fold(h.text_content()) for h in doc.cssselect(where["title"])],
        "date": [(d.get("datetime"), fold(d.text_content())) for d in dates],
        "paragraphs": [
            t
            for t in (fold(p.text_content()) for p in body[0].iter("p") if not p.get("class") and not p.get("style"))
            if t
        ],
        "captions": [fold(c.text_content()) for c in doc.cssselect(where["caption"])],
        "byline": [fold(b.text_content()) for b in doc.cssselect(where["byline"])],
    }


def truth(article, date: tuple[str | None, str]) -> dict:
    return {
        "title": [fold(article.title)],
        "date": [date],
        "paragraphs": [fold(p) for p in article.paragraphs],
        "captions": [fold(c) for c in article.captions],
        "byline": [fold(article.byline)] if article.byline else [],
    }


# every variant keeps the content ---------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", MARKUP)
def test_variant_keeps_the_articles_content(layout, variant):
    rep = replica(layout, drift=variant)
    where = REDESIGN if variant == "redesign" else SELECTORS[(layout, variant)]
    for article in rep.articles():
        iso = article.published.isoformat()
        if variant == "redesign":
            date = (iso, f"{article.published:%d/%m/%Y}")
        elif layout == "current" or variant == "time":
            date = (iso, article.date_text)
        else:
            date = (None, article.date_text)
        got = fields(doc_of(rep, article.url_path), where)
        assert got == truth(rep.article(article.id), date), (variant, article.id)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_default_replica_unchanged_after_drift_is_cleared(layout):
    plain = replica(layout)
    drifted = replica(layout, drift="redesign")
    drifted.set_drift("neutral")
    drifted.set_drift()
    targets = [plain.site.layout.LISTING, *(a.url_path for a in plain.articles())]
    for target in targets:
        assert drifted.site.respond(target).body == plain.site.respond(target).body, target
    doc = doc_of(plain, plain.articles()[0].url_path)
    assert doc.cssselect(BASE[layout]["body"]) and doc.cssselect(BASE[layout]["date"])
    assert doc.cssselect("span.author, div.content-wrap, div.post-view, time[datetime]")[:1] == (
        [] if layout == "legacy" else doc.cssselect("div.article__meta time")
    )
    assert plain.drift == Drift()


# what each variant does to the markup ------------------------------------------------------------
def signature_matches(page: str, kind: str) -> list[str]:
    root = Selector(text=page).root
    templates = PROFILE.templates if kind == "article" else PROFILE.listing_templates
    return [t.name for t in templates if select(root, t.signature)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("variant", "present"),
    [("renamed", {"article-body", "article-title", "article-date"}), ("neutral", {"b-1", "t-1", "m-1"})],
)
def test_renames_leave_no_original_class(layout, variant, present):
    plain, rep = replica(layout), replica(layout, drift=variant)
    for target in (plain.articles()[0].url_path, plain.site.layout.LISTING + "?Page=2"):
        before, after = classes(text_of(plain, target)), classes(text_of(rep, target))
        assert before & after == set(), target
    article = text_of(rep, plain.articles()[0].url_path)
    assert present <= classes(article)
    assert signature_matches(article, "article") == []
    listing = text_of(rep, plain.site.layout.LISTING)
    assert signature_matches(listing, "listing") == []
    entry = "l-2" if variant == "neutral" else "news-entry"
    assert len(lxml_html.fromstring(listing).find_class(entry)) == 10


@pytest.mark.parametrize("layout", LAYOUTS)
def test_time_moves_the_date_into_time_element(layout):
    rep = replica(layout, drift="time")
    for article in rep.articles():
        doc = doc_of(rep, article.url_path)
        times = doc.cssselect("time[datetime]")
        assert times[0].get("datetime") == article.published.isoformat()
        assert fold(times[0].text_content()) == article.date_text
        assert doc.cssselect("div.detail-date, div.article__meta") == []
        assert signature_matches(lxml_html.tostring(doc, encoding="unicode"), "article") == [layout]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_byline_moves_into_span_author(layout):
    rep = replica(layout, drift="byline")
    with_byline = [a for a in rep.articles() if a.byline]
    assert with_byline
    for article in with_byline:
        doc = doc_of(rep, article.url_path)
        body = doc.cssselect(BASE[layout]["body"])[0]
        assert [fold(s.text_content()) for s in doc.cssselect("span.author")] == [fold(article.byline)]
        assert body[-1].tag == "span"  # still the body's last element, in other markup
        assert doc.cssselect("p[style*='right'], p.author") == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_wrapped_puts_the_body_in_two_new_divs(layout):
    rep = replica(layout, drift="wrapped")
    for article in rep.articles():
        body = doc_of(rep, article.url_path).cssselect(BASE[layout]["body"])[0]
        children = [c for c in body if isinstance(c.tag, str)]
        assert [(c.tag, c.get("class")) for c in children] == [("div", "content-wrap")]
        assert [c.get("class") for c in children[0]] == ["content-text"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_nobanner_drops_banner_and_header(layout):
    plain, rep = replica(layout), replica(layout, drift="nobanner")
    bannered = next(a for a in plain.articles() if a.banner) if layout == "legacy" else plain.articles()[0]
    chrome = "div.top-notice, div#header, header.site-header"
    for target in (bannered.url_path, plain.site.layout.LISTING):
        assert doc_of(plain, target).cssselect(chrome) and doc_of(rep, target).cssselect(chrome) == []
    body = [fold(doc_of(r, bannered.url_path).cssselect(BASE[layout]["body"])[0].text_content()) for r in (plain, rep)]
    assert body[0] == body[1]
    assert signature_matches(text_of(rep, plain.site.layout.LISTING), "listing") == [layout]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_redesign_changes_listings_too(layout):
    rep = replica(layout, drift="redesign")
    listing = text_of(rep, rep.site.layout.LISTING + "?Page=2")
    assert signature_matches(listing, "listing") == []
    doc = lxml_html.fromstring(listing)
    entries = doc.cssselect("div.feed > div.feed-entry")
    page_two = rep.store.page(2, 10)
    assert [e.cssselect("a.feed-entry-link")[0].get("href") for e in entries] == [a.url_path for a in page_two]
    assert [e.cssselect("span.feed-entry-date")[0].text for e in entries] == [
        f"{a.published:%d/%m/%Y}" for a in page_two
    ]
    assert doc.cssselect("ul.feed-pages li.is-current")[0].text == "2"
    assert doc.cssselect("div.top-notice, div.list-news, section.category-news, div.paging, nav.pagination") == []
    assert signature_matches(text_of(rep, rep.articles()[0].url_path), "article") == []


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", (None, *MARKUP))
def test_listings_print_each_entrys_date(layout, variant):
    rep = replica(layout, drift=variant)
    text = fold(doc_of(rep, rep.site.layout.LISTING).text_content())
    for article in rep.store.page(1, 10):
        printed = article.date_text if layout == "legacy" and variant != "redesign" else f"{article.published:%d/%m/%Y}"
        assert f"{printed}" in text and fold(article.title) in text


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", (None, *MARKUP))
def test_surroundings_menu_other_news_with_dates_footer(layout, variant):
    rep = replica(layout, drift=variant)
    article = rep.articles()[0]
    doc = doc_of(rep, article.url_path)
    heading = next(h for h in doc.iter("h2", "h3", "h4") if fold(h.text_content()) == "Other news")
    others = fold(heading.getparent().text_content())
    following = rep.store.following(article.key, 8)
    assert following and all(fold(a.title) in others for a in following)
    assert all(
        a.date_text in others or f"{a.published:%d/%m/%Y}" in others for a in following
    )  # the dates a careless fallback takes for the article's own
    assert "Ministry of Public Security" in fold(doc.cssselect("#footer, footer")[0].text_content())
    menu = [a.get("href") for a in doc.cssselect("ul a")]
    assert (rep.site.layout.LISTING in menu) == (variant != "nobanner")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_shell_serves_no_article_text(layout):
    rep = replica(layout, drift="shell")
    for article in rep.articles():
        page = text_of(rep, article.url_path)
        doc = lxml_html.fromstring(page)
        assert '<div id="app"></div>' in page and doc.cssselect("script")
        assert fold(article.title) not in page and fold(article.paragraphs[0])[:40] not in page
        assert doc.cssselect("p") == []
    assert signature_matches(text_of(rep, rep.site.layout.LISTING), "listing") == [layout]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="drift must be one of"):
        ReplicaConfig(drift="sideways")
    with pytest.raises(ValueError, match="challenge_kind"):
        ReplicaConfig(drift="challenge", challenge_kind="akamai")
    with pytest.raises(ValueError, match="unknown drift option"):
        Drift.parse({"variant": "time", "colour": "red"})
    with pytest.raises(ValueError, match="challenge_pattern"):
        Drift(challenge_first=1, challenge_pattern="(")
    assert set(VARIANTS) == {*MARKUP, "shell", "challenge"}


def test_control_body_sets_and_clears_drift():
    rep = replica("legacy")
    target = rep.articles()[0].url_path
    plain = rep.site.respond(target).body
    done = rep.apply({"drift": "neutral"})
    assert done["drift"]["variant"] == "neutral" and b'class="b-1"' in rep.site.respond(target).body
    rep.apply({"drift": {"variant": "challenge", "challenge_first": 2, "challenge_kind": "cloudflare"}})
    assert rep.drift == Drift("challenge", 2, "cloudflare")
    rep.apply({"drift": None})
    assert rep.site.respond(target).body == plain


def test_command_line_options_and_default_port():
    args = parser().parse_args([])
    assert args.port == 8080 and args.drift is None and args.challenge is None
    args = parser().parse_args(["--drift", "neutral", "--challenge", "5", "--challenge-kind", "cloudflare"])
    assert (args.drift, args.challenge, args.challenge_kind) == ("neutral", 5, "cloudflare")


# bot walls over HTTP ----------------------------------------------------------------------------
def get(url: str | urllib.request.Request) -> tuple[int, dict[str, list[str]], str]:
    """Status, headers (each name's values, lower-cased names) and body of one request."""
    try:
        response = urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        headers: dict[str, list[str]] = {}
        for name, value in response.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        return response.status, headers, response.read().decode("utf-8")


def is_incapsula(status: int, headers: dict, body: str) -> bool:
    cookies = " ".join(headers.get("set-cookie", []))
    return (
        "_Incapsula_Resource" in body
        and "Request unsuccessful. Incapsula incident ID" in body
        and "visid_incap_" in cookies
        and "incap_ses_" in cookies
    )


@pytest.mark.slow
def test_incapsula_challenge_on_every_request(replica_factory):
    rep = replica_factory(articles=5, drift="challenge")
    article = rep.articles()[0]
    for target in (rep.listing_url, rep.article_url(article.id), rep.base_url + "/robots.txt"):
        status, headers, body = get(target)
        assert status == 200 and is_incapsula(status, headers, body), target
        assert headers["x-cdn"] == ["Imperva"] and article.title not in body
    status, _, body = get(rep.base_url + "/_replica/counts")  # controls are not behind the wall
    assert status == 200 and json.loads(body)[article.url_path] == 1
    rep.set_drift("challenge", challenge_status=403)
    status, headers, body = get(rep.listing_url)
    assert status == 403 and is_incapsula(status, headers, body)


@pytest.mark.slow
def test_cloudflare_challenge(replica_factory):
    rep = replica_factory(articles=5, drift="challenge", challenge_kind="cloudflare")
    status, headers, body = get(rep.listing_url)
    assert status == 403
    assert "<title>Just a moment...</title>" in body and "cf-chl" in body and "/cdn-cgi/challenge-platform/" in body
    assert headers["server"] == ["cloudflare"] and headers["cf-mitigated"] == ["challenge"]
    assert any(c.startswith("__cf_bm=") for c in headers["set-cookie"])
    rep.set_drift("challenge", challenge_kind="cloudflare", challenge_status=503)
    assert get(rep.listing_url)[0] == 503


@pytest.mark.slow
def test_challenge_first_n_then_normal_pages(replica_factory):
    rep = replica_factory(articles=5, drift="challenge", challenge_first=3)
    article = rep.articles()[0]
    answers = [get(rep.article_url(article.id)) for _ in range(5)]
    assert [is_incapsula(*a) for a in answers] == [True, True, True, False, False]
    assert [a[0] for a in answers[3:]] == [200, 200] and fold(article.title) in fold(answers[3][2])
    rep.set_drift("neutral", challenge_first=1, challenge_pattern=r"\.html")  # the count restarts; robots pass
    assert get(rep.base_url + "/robots.txt")[0] == 200
    assert is_incapsula(*get(rep.listing_url))
    assert 'class="l-2"' in get(rep.listing_url)[2]


@pytest.mark.slow
def test_drift_over_the_control_endpoint(replica_factory):
    rep = replica_factory(articles=5, layout="current")
    control = rep.base_url + "/_replica/control"

    def post(order: object) -> tuple[int, dict]:
        request = urllib.request.Request(control, data=json.dumps(order).encode(), method="POST")
        status, _, body = get(request)
        return status, json.loads(body)

    status, done = post({"drift": {"variant": "challenge", "challenge_first": 1, "challenge_kind": "cloudflare"}})
    assert status == 200 and done["drift"]["challenge_kind"] == "cloudflare"
    assert get(rep.listing_url)[0] == 403 and get(rep.listing_url)[0] == 200
    assert post({"drift": "sideways"})[0] == 400
    assert post({"drift": "time"})[0] == 200
    assert "article__meta" not in get(rep.article_url(rep.articles()[0].id))[2]
    assert post({"drift": None})[0] == 200
    assert "article__meta" in get(rep.article_url(rep.articles()[0].id))[2]


@pytest.mark.slow
def test_module_command_line_serves_a_drift():
    command = [sys.executable, "-m", "portal_crawler.replica", "--port", "0", "--articles", "3", "--drift", "neutral"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        page = get(url)[2]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert re.fullmatch(r"replica: serving 8 articles \(legacy, drift neutral\) at http://127\.0\.0\.1:\d+/\S+\n", line)
    assert 'class="l-2"' in page
    bad = subprocess.run(
        [sys.executable, "-m", "portal_crawler.replica", "--drift", "sideways"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "invalid choice: 'sideways'" in bad.stderr
