"""Per-field fallbacks, dates held to the listing and the ID, field sources, and the profile's new settings.

Pages come from tests/golden (saved bytes) or are rendered in-process by a replica that is never
started (``Replica.site.respond``, no socket); truth is the replica's own article
(``Replica.article(id)``). Nothing here crawls or listens on a port.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import TextResponse

from portal_crawler.extraction import dates
from portal_crawler.extraction.article import Article
from portal_crawler.extraction.extract import FIELDS, REQUIRED, Extraction, extract
from portal_crawler.extraction.pages import article_item, listing_dates, listing_template, text_response
from portal_crawler.extraction.profile import ProfileError, load_profile, parse_profile
from portal_crawler.extraction.urls import UrlRules
from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.replica.articles import Article as Truth
from portal_crawler.replica.replica import LISTINGS as LISTING_PATHS

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
PROFILE = load_profile("mps")
RULES = UrlRules(PROFILE)
LAYOUTS = ("legacy", "current")
ARTICLES = 26  # generated besides the 5 seeds: 31 articles per layout
BY = re.compile(r"^by\s+", re.IGNORECASE)


def fold(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())


def author_of(truth: Truth) -> str | None:
    """PORTAL.md: the author is the byline without its "by"."""
    return BY.sub("", truth.byline).strip() if truth.byline else None


# -- saved pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    page: Path

    @property
    def label(self) -> str:
        return self.page.relative_to(GOLDEN).with_suffix("").as_posix()

    @property
    def meta(self) -> dict[str, Any]:
        return json.loads(self.page.with_suffix(".meta.json").read_text("utf-8"))

    @property
    def drift(self) -> str | None:
        return self.meta["source"].get("drift", {}).get("variant")

    def response(self, body: bytes | None = None) -> TextResponse:
        meta = self.meta
        headers = [("Content-Type", meta["content_type"])]
        response = text_response(meta["url"], meta["status"], headers, self.page.read_bytes() if body is None else body)
        assert response is not None
        return response

    def extract(self, listing_date: str | None = None, body: bytes | None = None) -> Extraction:
        response = self.response(body)
        return extract(response.selector, response.url, PROFILE, listing_date=listing_date)

    def truth(self) -> Truth:
        article = replica_of(self.meta).article(RULES.classify(self.meta["url"]).article_id or "")
        assert article is not None, self.label
        return article


@cache
def replica_of_config(layout: str, seed: int, articles: int) -> Replica:
    """The replica a golden page was captured from (never started: only its articles are read)."""
    return Replica(ReplicaConfig(articles=articles, layout=layout, seed=seed))


def replica_of(meta: dict[str, Any]) -> Replica:
    config = meta["source"]["replica"]
    return replica_of_config(config["layout"], config["seed"], config["articles"])


def saved(kind: str) -> list[Saved]:
    return [Saved(p) for p in sorted((GOLDEN / kind).glob("*/*.html"))]


PLAIN_ARTICLES = [s for s in saved("article") if s.drift is None and s.page.parent.name != "fallback"]
DRIFT_ARTICLES = [s for s in saved("article") if s.drift not in (None, "shell", "challenge")]
# Where each drift variant's page gets each field from (a field not named: the selector).
SOURCES = {
    "nobanner": {},
    "time": {"published": "time"},
    "byline": {"author": "byline-rule"},
    "wrapped": {"author": "byline-rule"},
}
GENERIC = {"title": "trafilatura", "paragraphs": "trafilatura", "images": "trafilatura"}


@pytest.mark.parametrize("page", PLAIN_ARTICLES, ids=lambda s: s.label)
def test_unaltered_page_takes_every_field_it_has_from_its_selector(page: Saved) -> None:
    extraction = page.extract()
    for name in FIELDS:
        value = getattr(extraction, name)
        want = "selector" if value or name not in REQUIRED else "none"
        assert extraction.field_sources[name] == want, f"{page.label}: {name} {value!r}"
    if not extraction.problems:
        assert extraction.degraded_fields == [] and extraction.quality == "ok", page.label


def test_most_unaltered_pages_extract_fully() -> None:
    """The test above is not vacuous: most saved pages have every field from its selector."""
    full = [s.label for s in PLAIN_ARTICLES if not s.extract().degraded_fields]
    assert len(full) >= 20 and len(full) >= len(PLAIN_ARTICLES) - 6, full


@pytest.mark.parametrize("page", DRIFT_ARTICLES, ids=lambda s: s.label)
def test_drift_page_reads_right_and_says_where_each_field_came_from(page: Saved) -> None:
    extraction, truth, variant = page.extract(), page.truth(), page.drift or ""
    assert extraction.title == fold(truth.title) and extraction.published == truth.published.isoformat()
    assert extraction.author == author_of(truth), page.label
    assert [fold(p) for p in extraction.paragraphs] == [fold(p) for p in truth.paragraphs], page.label
    if variant in SOURCES:
        assert extraction.template == page.meta["source"]["replica"]["layout"]
        want = {name: SOURCES[variant].get(name, "selector") for name in FIELDS}
        if truth.byline is None:
            want["author"] = "none"
        assert extraction.field_sources == want
        assert extraction.quality == ("ok" if not SOURCES[variant] and truth.byline else "partial")
        assert sorted(extraction.degraded_fields) == sorted(n for n, s in want.items() if s != "selector")
    else:
        assert extraction.template == "fallback" and extraction.quality == "fallback"
        assert extraction.degraded_fields == list(FIELDS)
        assert {n: extraction.field_sources[n] for n in GENERIC} == GENERIC
        assert extraction.field_sources["published"] in ("time", "htmldate")
        assert extraction.field_sources["author"] in ("byline-rule", "trafilatura")


def test_every_drift_variant_has_saved_pages() -> None:
    variants = {s.drift for s in saved("article")} | {s.drift for s in saved("listing")}
    assert variants >= {"renamed", "neutral", "wrapped", "time", "byline", "nobanner", "redesign", "shell"}
    assert {s.meta["source"]["drift"].get("challenge_kind") for s in saved("article") if s.drift == "challenge"} == {
        "incapsula",
        "cloudflare",
    }


# -- dates held to the listing and the ID -------------------------------------------------------


def page(name: str) -> Saved:
    return Saved(GOLDEN / f"{name}.html")


def test_a_fallback_date_that_disagrees_with_the_listing_is_a_problem_and_the_listing_wins() -> None:
    extraction = page("article/legacy/drift-time-legacy-seed-000").extract(listing_date="2019-12-01")
    assert extraction.published == "2019-12-01" and extraction.field_sources["published"] == "listing"
    assert "published 2019-11-30 from time disagrees with the listing's 2019-12-01" in extraction.problems
    agreed = page("article/legacy/drift-time-legacy-seed-000").extract(listing_date="2019-11-30")
    assert agreed.field_sources["published"] == "time" and not any("disagrees" in p for p in agreed.problems)


def test_a_fallback_date_that_disagrees_with_the_id_is_a_problem_and_the_id_wins() -> None:
    saved_page = page("article/current/drift-time-current-seed-002")
    body = saved_page.page.read_bytes().replace(b'<time datetime="2024-10-15">', b'<time datetime="2024-10-09">', 1)
    extraction = saved_page.extract(body=body)
    assert extraction.published == "2024-10-15" and extraction.field_sources["published"] == "id-time"
    assert "published 2024-10-09 from time disagrees with the ID's 2024-10-15" in extraction.problems


def test_a_selector_date_that_disagrees_is_kept_but_flagged() -> None:
    extraction = page("article/legacy/seed-000").extract(listing_date="2019-12-02")
    assert extraction.published == "2019-11-30" and extraction.field_sources["published"] == "selector"
    assert extraction.problems == ["published 2019-11-30 from selector disagrees with the listing's 2019-12-02"]
    assert extraction.quality == "partial"


def test_no_date_on_the_page_never_takes_one_from_other_news() -> None:
    """seed-003 without its date line: its "Other news" dates and a bare "2020" are all htmldate could find."""
    no_date = page("article/legacy/seed-003-no-date")
    other_news = set(re.findall(rb"\((\w+, \d\d \d{4})\)", no_date.page.read_bytes()))
    assert other_news, "the page lists other news with dates"
    extraction = no_date.extract()
    assert extraction.published is None and extraction.field_sources["published"] == "none"
    listed = no_date.extract(listing_date="2020-08-01")
    assert listed.published == "2020-08-01" and listed.field_sources["published"] == "listing"
    assert "published: the selector found nothing; taken from listing" in listed.problems


def test_the_id_gives_the_date_when_the_page_has_none() -> None:
    saved_page = page("article/current/seed-002")
    body = re.sub(rb'<div class="article__meta">.*?</div>\n', b"", saved_page.page.read_bytes(), count=1)
    extraction = saved_page.extract(body=body)
    assert extraction.published == "2024-10-15" and extraction.field_sources["published"] == "id-time"


def test_ten_digit_ids_are_read_in_the_portals_zone() -> None:
    """1728975600 (seed 002, 2024-10-15) is 07:00 UTC: either zone gives the seed's date. A story at
    01:00 Hanoi time (18:00 UTC the day before) is dated as Hanoi prints it."""
    assert PROFILE.zone == "Asia/Ho_Chi_Minh"
    assert dates.id_date("1728975600", PROFILE.zone) == dates.id_date("1728975600", "UTC") == "2024-10-15"
    assert dates.id_date("1728928800", PROFILE.zone) == "2024-10-15"  # 2024-10-14 18:00 UTC
    assert dates.id_date("1728928800", "UTC") == "2024-10-14"
    assert dates.id_date("t6294", PROFILE.zone) is None and dates.id_date("172897560", PROFILE.zone) is None


def test_a_listing_and_an_id_that_disagree_are_a_problem() -> None:
    extraction = page("article/current/seed-002").extract(listing_date="2024-10-16")
    assert "published: the listing's 2024-10-16 disagrees with the ID's 2024-10-15" in extraction.problems


LISTINGS = [s for s in saved("listing") if s.page.parent.name != "fallback"]


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda s: s.label)
def test_listing_dates_are_the_dates_the_listing_prints(listing: Saved) -> None:
    response, rules = listing.response(), UrlRules(PROFILE)
    found = listing_dates(response, listing_template(PROFILE, response), rules)
    replica = replica_of(listing.meta)
    truth = {}
    for article_id in found:
        article = replica.article(article_id)
        assert article is not None
        truth[article_id] = article.published.isoformat()
    assert found == truth
    entries = json.loads(listing.page.with_suffix(".json").read_text("utf-8"))["entries"]
    assert set(found) == {e["id"] for e in entries}


def test_a_listing_no_template_reads_gives_no_dates() -> None:
    for listing in (s for s in saved("listing") if s.page.parent.name == "fallback"):
        response = listing.response()
        assert listing_dates(response, listing_template(PROFILE, response), RULES) == {}, listing.label


# -- the replica in each drift variant: 31 articles per layout ----------------------------------


def rendered(replica: Replica, target: str) -> TextResponse:
    answer = replica.site.respond(target)
    response = text_response(
        "http://127.0.0.1" + target, answer.status, [("Content-Type", answer.content_type)], answer.body
    )
    assert response is not None and answer.status == 200, target
    return response


def known_dates(replica: Replica) -> dict[str, str]:
    """What the crawl would pass: each entry's date from every listing page a template reads."""
    rules = UrlRules(PROFILE, ("127.0.0.1",))
    found: dict[str, str] = {}
    for number in range(1, 5):
        response = rendered(replica, LISTING_PATHS[replica.config.layout] + f"?Page={number}")
        found |= listing_dates(response, listing_template(PROFILE, response), rules)
    return found


@dataclass
class Score:
    articles: int = 0
    dates: int = 0
    authors: int = 0
    bodies: int = 0
    from_other_news: int = 0


def score(layout: str, variant: str | None) -> Score:
    replica = Replica(ReplicaConfig(articles=ARTICLES, layout=layout, drift=variant))
    known, result = known_dates(replica), Score()
    for truth in replica.articles():
        response = rendered(replica, truth.url_path)
        extraction = extract(response.selector, response.url, PROFILE, listing_date=known.get(truth.id))
        others = {a.published.isoformat() for a in replica.store.following(truth.key, 10)}
        right = extraction.published == truth.published.isoformat()
        result.articles += 1
        result.dates += right
        result.from_other_news += not right and extraction.published in others
        result.authors += extraction.author == author_of(truth)
        result.bodies += [fold(p) for p in extraction.paragraphs] == [fold(p) for p in truth.paragraphs]
    return result


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("variant", ["time", "neutral"])
def test_dates_right_when_the_date_moved_or_classes_went_neutral(layout: str, variant: str) -> None:
    result = score(layout, variant)
    assert result.articles == 31
    assert result.dates >= 0.95 * result.articles, result
    assert result.from_other_news == 0, result


@pytest.mark.parametrize("layout", LAYOUTS)
def test_authors_right_when_the_byline_moved_into_a_span(layout: str) -> None:
    result = score(layout, "byline")
    assert result.articles == 31 and result.authors >= 0.95 * result.articles, result
    assert result.bodies == result.articles, result


# -- field sources from declared metadata -------------------------------------------------------

SKELETON = (
    "<html><head><title>T</title>{head}</head><body>{body}<div class='news-detail'><h1 class='detail-title'>"
    "Headline</h1><div class='detail-content'><p>MPS - {text}</p><p>{text}</p></div></div></body></html>"
)
TEXT = "The conference reviewed the work of the first half of the year and set tasks for the second half. " * 3
URL = "http://en.bocongan.gov.vn/news-events/a-t9001.html"
LD = (
    '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", '
    '"name": "MPS"}, {"@type": "NewsArticle", "headline": "LD headline", "datePublished": "2021-03-04T09:00:00+07:00",'
    ' "author": [{"@type": "Person", "name": "Le Hoa"}], "image": {"url": "/a.jpg"}}]}</script>'
)
MICRODATA = (
    '<div itemscope itemtype="https://schema.org/NewsArticle"><meta itemprop="datePublished" content="2021-03-05">'
    '<span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">Thu Hung</span>'
    "</span></div>"
)
OPENGRAPH = '<meta property="og:title" content="OG"><meta property="article:published_time" content="2021-03-06">'
META = '<meta name="pubdate" content="2021-03-07"><meta name="author" content="By Viet Thanh">'


@pytest.mark.parametrize(
    ("head", "body", "published", "source"),
    [
        (LD, "", "2021-03-04", "json-ld"),
        ("", MICRODATA, "2021-03-05", "microdata"),
        (OPENGRAPH, "", "2021-03-06", "opengraph"),
        (META, "", "2021-03-07", "meta"),
        (LD + OPENGRAPH + META, MICRODATA, "2021-03-04", "json-ld"),
        (
            "",
            '<time datetime="2021-03-08T23:30:00Z">x</time><ul><li><time datetime="2020-01-01">y</time></li></ul>',
            "2021-03-09",
            "time",
        ),
    ],
    ids=["json-ld", "microdata", "opengraph", "meta", "json-ld-first", "time-in-the-portal-zone"],
)
def test_an_empty_date_selector_asks_the_declared_sources_in_order(
    head: str, body: str, published: str, source: str
) -> None:
    extraction = extract(SKELETON.format(head=head, body=body, text=TEXT), URL, PROFILE)
    assert extraction.template == "legacy"
    assert (extraction.published, extraction.field_sources["published"]) == (published, source)
    assert extraction.field_sources["title"] == "selector" and extraction.title == "Headline"
    assert extraction.quality == "partial" and "published" in extraction.degraded_fields


def test_a_page_no_template_reads_takes_each_field_from_its_own_source() -> None:
    html = f"<html><head>{LD}{META}</head><body><div class='story'><p>MPS - {TEXT}</p><p>{TEXT}</p></div></body></html>"
    extraction = extract(html, URL, PROFILE)
    assert extraction.template == "fallback" and extraction.quality == "fallback"
    assert (extraction.title, extraction.field_sources["title"]) == ("LD headline", "json-ld")
    assert (extraction.author, extraction.field_sources["author"]) == ("Le Hoa", "json-ld")
    assert extraction.field_sources["published"] == "json-ld" and extraction.published == "2021-03-04"
    assert extraction.field_sources["paragraphs"] == "trafilatura" and len(extraction.paragraphs) == 2
    assert extraction.images == ["http://en.bocongan.gov.vn/a.jpg"] and extraction.field_sources["images"] == "json-ld"
    assert extraction.field_sources["captions"] == "none" and extraction.degraded_fields == list(FIELDS)


def test_the_byline_rule_never_takes_a_closing_paragraph_for_a_byline() -> None:
    for name in ("article/legacy/drift-byline-legacy-no-byline", "article/current/drift-byline-current-no-byline"):
        saved_page = page(name)
        extraction, truth = saved_page.extract(), saved_page.truth()
        assert truth.byline is None and extraction.author is None and extraction.field_sources["author"] == "none"
        assert [fold(p) for p in extraction.paragraphs] == [fold(p) for p in truth.paragraphs]


# -- the Article, the profile's settings --------------------------------------------------------


def test_article_item_carries_field_sources_and_the_profile_revision() -> None:
    saved_page = page("article/legacy/drift-time-legacy-seed-000")
    response = saved_page.response()
    info = RULES.classify(response.url)
    item = article_item(response, info, PROFILE, summary=None, capture_id=1, fetched_at=None, listing_date="2019-11-30")
    assert item.field_sources["published"] == "time" and item.field_sources["title"] == "selector"
    assert item.profile_revision == PROFILE.revision("legacy") and item.quality == "partial"


def test_an_article_pickled_before_field_sources_loads_with_defaults() -> None:
    article = Article("t1", "u", "T", None, None, None, "", [], [], [], None, "legacy", "ok", field_sources={"a": "b"})
    assert pickle.loads(pickle.dumps(article)) == article
    old_state = {k: v for k, v in article.__dict__.items() if k not in ("field_sources", "profile_revision")}
    restored = Article.__new__(Article)
    restored.__setstate__(old_state)  # what unpickling an 0.1 Article does
    assert restored.field_sources == {} and restored.profile_revision is None and restored.title == "T"


def test_the_profile_revision_is_a_hash_of_the_templates_rules() -> None:
    legacy, current = PROFILE.revision("legacy"), PROFILE.revision("current")
    assert re.fullmatch(r"[0-9a-f]{12}", legacy) and legacy != current
    assert PROFILE.revision("fallback") == "fallback" and load_profile("mps").revision("legacy") == legacy
    data = {
        **PROFILE.raw,
        "templates": [{**PROFILE.raw["templates"][0], "byline": "p.byline"}, PROFILE.raw["templates"][1]],
    }
    changed = parse_profile(data, "changed.toml")
    assert changed.revision("legacy") != legacy and changed.revision("current") == current
    moved = parse_profile({**PROFILE.raw, "dates": {**PROFILE.raw["dates"], "formats": ["%Y-%m-%d"]}}, "dates.toml")
    assert moved.revision("legacy") != legacy
    with pytest.raises(KeyError):
        PROFILE.revision("nope")


def test_the_drift_settings_are_read_and_checked() -> None:
    assert (PROFILE.drift.threshold, PROFILE.drift.min_articles, PROFILE.drift.challenge_streak) == (0.2, 3, 5)
    default = parse_profile({k: v for k, v in PROFILE.raw.items() if k != "drift"}, "default.toml")
    assert default.drift == replace(PROFILE.drift) and default.drift.threshold == 0.2
    bad: list[tuple[dict[str, Any], str]] = [
        ({"threshold": 1.5}, "drift.threshold: expected a share from 0 to 1"),
        ({"threshold": "high"}, "drift.threshold"),
        ({"min_articles": 0}, "drift.min_articles: expected a whole number of 1 or more"),
        ({"challenge_streak": True}, "drift.challenge_streak"),
        ({"streak": 5}, "drift.streak: unknown setting"),
    ]
    for table, message in bad:
        with pytest.raises(ProfileError, match=re.escape(f"x.toml: {message}")):
            parse_profile({**PROFILE.raw, "drift": table}, "x.toml")
    with pytest.raises(ProfileError, match=r"dates\.zone: unknown time zone 'Mars/Olympus'"):
        parse_profile({**PROFILE.raw, "dates": {"zone": "Mars/Olympus"}}, "x.toml")


def test_listing_templates_carry_their_date_selector() -> None:
    assert [t.date for t in PROFILE.listing_templates] == ["div.news-date", "time.story__time::attr(datetime)"]
    bad = {**PROFILE.raw, "listing_templates": [{**PROFILE.raw["listing_templates"][0], "date": "div[["}]}
    with pytest.raises(ProfileError, match=r"listing_templates\[0\]\.date: bad CSS selector"):
        parse_profile(bad, "x.toml")


SOURCE_NAMES = {"selector", "json-ld", "microdata", "opengraph", "meta", "time", "htmldate", "trafilatura"}
SOURCE_NAMES |= {"byline-rule", "listing", "id-time", "none"}


def test_every_saved_expectation_names_known_sources() -> None:
    known = SOURCE_NAMES
    for saved_page in saved("article"):
        expected = json.loads(saved_page.page.with_suffix(".json").read_text("utf-8"))
        assert set(expected["field_sources"]) == set(FIELDS), saved_page.label
        assert set(expected["field_sources"].values()) <= known, saved_page.label
