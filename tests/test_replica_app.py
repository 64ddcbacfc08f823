"""The replica's app layout: HTML shells, the script that fills them, and the JSON API behind them.

Requests go over urllib to 127.0.0.1; the truth to check against is the
replica's own articles (``Replica.articles()``), the current layout's HTML
listing, and the seeds' expected extraction. One test runs the page script
under node (a subprocess: marked slow) against the live replica.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from email.message import Message
from pathlib import Path

import pytest
from helpers import expected_seeds, fold
from parsel import Selector

from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.replica.serve import parser

HANOI = timezone(timedelta(hours=7))
SEARCH = "/backend-portal/articles/search"
CRAWLER_LISTING = SEARCH + "?dateFrom=&dateTo=&category_id=1065&page=0&size=10"
ENGLISH = {"Portal-Id": "28"}
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00")


def get(replica: Replica, target: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """(status, headers, body) of one GET, error statuses included."""
    request = urllib.request.Request(replica.base_url + target, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def api(replica: Replica, target: str, headers: dict[str, str] | None = ENGLISH) -> tuple[int, dict]:
    status, answer_headers, body = get(replica, target, headers)
    assert answer_headers["Content-Type"] == "application/json; charset=utf-8", (target, body[:200])
    return status, json.loads(body)


def listing(replica: Replica, query: str, headers: dict[str, str] | None = ENGLISH) -> dict:
    status, payload = api(replica, f"{SEARCH}?{query}", headers)
    assert status == 200 and payload["code"] == 200, payload
    return payload["data"]


def detail(replica: Replica, stamp_id: str, headers: dict[str, str] | None = ENGLISH) -> tuple[int, dict]:
    return api(replica, f"/backend-portal/articles/{replica.api_id(stamp_id)}", headers)


def hanoi_day(stamp: int) -> date:
    return datetime.fromtimestamp(stamp, HANOI).date()


@pytest.fixture(scope="module")
def app() -> Iterator[Replica]:
    with Replica(ReplicaConfig(articles=60, layout="app", seed=1, port=0)) as replica:
        yield replica


def test_shells_carry_no_article_text_and_reference_the_script(app: Replica) -> None:
    articles = app.articles()
    shells = {"/": "listing", "/news.html": "listing", "/news.html?Page=3&utm_source=x": "listing"}
    shells.update({a.url_path: "article" for a in articles[:6]})
    for target, view in shells.items():
        status, headers, body = get(app, target)
        text = body.decode("utf-8")
        assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8"), target
        assert headers["ETag"] and headers["Last-Modified"], target
        page = Selector(text=text)
        assert page.css("title::text").get() == "Ministry of Public Security"
        assert page.css("link[rel=stylesheet]::attr(href)").get() == "/css/style.css"
        assert "/images/logo.png" in page.css("img::attr(src)").getall()
        assert page.css("script[defer]::attr(src)").getall() == ["/js/portal-app.js"]
        mount = page.css("#portal-app")[0].attrib
        assert mount["data-view"] == view
        for article in articles:
            assert article.title not in text and article.paragraphs[0][:60] not in text, (target, article.id)
    assert Selector(text=get(app, "/news.html")[2].decode()).css("#portal-app")[0].attrib == {
        "id": "portal-app",
        "data-view": "listing",
        "data-category": "1065",
        "data-page": "0",
    }
    first = articles[0]
    mount = Selector(text=get(app, first.url_path)[2].decode()).css("#portal-app")[0].attrib
    assert mount["data-article-id"] == str(app.api_id(first.id)) != first.id
    assert get(app, "/article/no-such-article-1000000000")[0] == 404
    status, headers, script = get(app, "/js/portal-app.js")
    assert status == 200 and headers["Content-Type"].startswith("application/javascript") and b"fetch(" in script
    for static in ("/css/style.css", "/images/logo.png", "/robots.txt", *first.images):
        assert get(app, static)[0] == 200, static


def test_listing_api_pages_cover_every_article_once_in_the_html_listing_order(app: Replica, replica_factory) -> None:
    html = replica_factory(articles=60, layout="current")
    html_order: list[str] = []
    for number in range(1, 8):
        html_order += (
            Selector(text=get(html, f"/news.html?Page={number}")[2].decode())
            .css("h2.story__title a::attr(href)")
            .getall()
        )
    truth = {a.url_path: a for a in app.articles()}
    assert len(html_order) == len(truth) == 65
    for size in (10, 7):
        pages = -(-65 // size)
        seen: list[dict] = []
        for number in range(pages + 1):
            data = listing(app, f"dateFrom=&dateTo=&category_id=1065&page={number}&size={size}")
            assert (data["number"], data["size"], data["totalElements"], data["totalPages"]) == (
                number,
                size,
                65,
                pages,
            )
            assert (data["first"], data["last"]) == (number == 0, number >= pages - 1)
            assert len(data["content"]) == (0 if number == pages else min(size, 65 - number * size))
            seen += data["content"]
        assert [item["url"] for item in seen] == html_order
    assert len({item["articleId"] for item in seen}) == 65
    for item in seen:
        article = truth[item["url"]]
        assert set(item) == {"articleId", "title", "slug", "summary", "publishTime", "url", "thumbnail"}
        assert item["articleId"] == app.api_id(article.id) and str(item["articleId"]) != article.id
        assert (item["title"], item["slug"], item["summary"]) == (article.title, article.slug, article.summary)
        assert TIME.fullmatch(item["publishTime"])
        assert datetime.fromisoformat(item["publishTime"]).timestamp() == article.stamp
        assert item["thumbnail"] == (article.images[0] if article.images else None)


def test_listing_defaults_bounds_and_bad_queries(app: Replica) -> None:
    assert listing(app, "")["size"] == 10 and listing(app, "")["number"] == 0
    assert len(listing(app, "size=50")["content"]) == 50 and len(listing(app, "size=1")["content"]) == 1
    crawler = listing(app, "dateFrom=&dateTo=&category_id=1065&page=2&size=10")
    assert listing(app, "size=10&utm_source=x&page=2&category_id=1065&dateTo=&dateFrom=") == crawler
    for query in ("size=0", "size=51", "size=-3", "size=ten", "page=-1", "page=x", "page=1.5"):
        status, payload = api(app, f"{SEARCH}?{query}")
        assert (status, payload["code"], payload["data"]) == (400, 400, None), query
    for query in ("dateFrom=2024-1-05", "dateTo=2024-13-01", "dateFrom=yesterday", "dateTo=2024-02-30"):
        assert api(app, f"{SEARCH}?{query}")[0] == 400, query
    assert listing(app, "category_id=77")["content"] == [] and listing(app, "category_id=77")["totalElements"] == 0


def test_date_filter_by_publication_day_in_hanoi(app: Replica) -> None:
    articles = app.articles()
    assert all(hanoi_day(a.stamp) == a.published for a in articles)

    def urls(query: str) -> list[str]:
        return [item["url"] for item in listing(app, f"category_id=1065&size=50&{query}")["content"]]

    day = articles[10].published
    assert urls(f"dateFrom={day}&dateTo={day}") == [a.url_path for a in articles if a.published == day]
    first, last = articles[30].published, articles[12].published
    assert urls(f"dateFrom={first}&dateTo={last}") == [a.url_path for a in articles if first <= a.published <= last]
    assert len(urls(f"dateFrom={first}&dateTo={last}")) == 19
    assert urls(f"dateFrom={last}&dateTo=") == [a.url_path for a in articles if a.published >= last]
    assert urls(f"dateFrom=&dateTo={first}")[:50] == [a.url_path for a in articles if a.published <= first][:50]
    assert urls(f"dateFrom={last}&dateTo={first}") == []
    total = listing(app, f"dateFrom={first}&dateTo={last}&size=5&page=3")
    assert (total["totalElements"], total["totalPages"], total["last"], len(total["content"])) == (19, 4, True, 4)


def test_portal_id_selects_the_content_tree(app: Replica) -> None:
    english = listing(app, "size=50", {"Portal-Id": "28"})
    assert english["totalElements"] == 65
    english_ids = {item["articleId"] for item in english["content"]}
    for portal in ("22", "25"):
        other = listing(app, "dateFrom=&dateTo=&category_id=1065&page=0&size=10", {"Portal-Id": portal})
        assert other["totalElements"] == len(other["content"]) == 3
        assert not english_ids & {item["articleId"] for item in other["content"]}
        assert all(re.fullmatch(r"/bai-viet/[a-z0-9-]+-d\d+-t\d+", item["url"]) for item in other["content"])
        vietnamese_id = other["content"][0]["articleId"]
        assert api(app, f"/backend-portal/articles/{vietnamese_id}", {"Portal-Id": portal})[0] == 200
        assert api(app, f"/backend-portal/articles/{vietnamese_id}")[0] == 404
    for headers in (None, {"Portal-Id": ""}, {"Portal-Id": "99"}):
        empty = listing(app, "size=10", headers)
        assert (empty["content"], empty["totalElements"], empty["last"]) == ([], 0, True)
    stamp_id = app.articles()[0].id
    assert detail(app, stamp_id)[0] == 200
    for headers in (None, {"Portal-Id": "22"}, {"Portal-Id": "7"}):
        status, payload = detail(app, stamp_id, headers)
        assert (status, payload) == (404, {"code": 404, "message": "Not found", "data": None})
    assert api(app, f"/backend-portal/articles/{stamp_id}")[0] == 404  # the stamp is not the API's ID
    assert api(app, "/backend-portal/articles/abc")[0] == 400
    assert api(app, "/backend-portal/articles/1_000")[0] == 400


def test_seed_details_are_their_expected_extraction(app: Replica) -> None:
    by_title = {a.title: a for a in app.articles()}
    for seed in expected_seeds():
        article = by_title[seed["title"]]
        status, payload = detail(app, article.id)
        data = payload["data"]
        assert status == 200 and payload["code"] == 200
        assert set(data) == {
            *("articleId", "title", "slug", "url", "publishTime", "summary"),
            *("author", "contentHtml", "images", "category"),
        }
        assert (data["title"], data["publishTime"][:10], data["author"]) == (
            seed["title"],
            seed["published"],
            seed["author"],
        )
        assert (data["url"], data["category"]) == (article.url_path, {"id": 1065, "name": "News"})
        body = Selector(text=data["contentHtml"])
        assert [fold(p.xpath("string()").get()) for p in body.css("p")] == [fold(p) for p in seed["paragraphs"]]
        assert [fold(c) for c in body.css("figure figcaption::text").getall()] == [fold(c) for c in seed["captions"]]
        assert body.css("img::attr(src)").getall() == [image["url"] for image in data["images"]] == article.images
        assert [image["caption"] for image in data["images"] if image["caption"]] == seed["captions"]
        assert not body.css("p.author, p.img-desc") and seed["byline_text"] not in data["contentHtml"]
        for image in article.images:
            status, headers, _ = get(app, image)
            assert status == 200 and headers["Content-Type"].startswith("image/"), image


def test_detail_authors_follow_the_byline(app: Replica) -> None:
    bylines = {a.byline: a for a in app.articles()}
    unsigned = bylines.pop(None)
    assert detail(app, unsigned.id)[1]["data"]["author"] is None
    assert len(bylines) > 10
    for byline, article in bylines.items():
        expected = re.sub(r"^by\s+", "", byline or "", flags=re.IGNORECASE)
        assert detail(app, article.id)[1]["data"]["author"] == expected, byline


def test_detail_etag_304_and_an_edit(replica_factory) -> None:
    replica = replica_factory(articles=10, layout="app")
    article = replica.articles()[4]
    target = f"/backend-portal/articles/{replica.api_id(article.id)}"
    status, headers, body = get(replica, target, ENGLISH)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag and modified
    status, headers, body = get(replica, target, {**ENGLISH, "If-None-Match": etag})
    assert (status, body) == (304, b"")
    replica.edit_article(article.id)
    status, headers, body = get(replica, target, {**ENGLISH, "If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag and headers["Last-Modified"] != modified
    paragraphs = [
        fold(p.xpath("string()").get()) for p in Selector(text=json.loads(body)["data"]["contentHtml"]).css("p")
    ]
    assert paragraphs == [fold(p) for p in replica.article(article.id).paragraphs] and paragraphs[-1].startswith(
        "Update 1:"
    )
    assert listing(replica, "size=10")["content"][4]["articleId"] == replica.api_id(article.id)


def test_delete_and_add(replica_factory) -> None:
    replica = replica_factory(articles=10, layout="app")
    gone = replica.articles()[2]
    api_id = replica.api_id(gone.id)
    listed = json.loads(get(replica, "/_replica/articles")[2])
    assert {entry["id"]: entry["articleId"] for entry in listed}[gone.id] == api_id
    control = urllib.request.Request(
        replica.base_url + "/_replica/control", data=json.dumps({"delete": gone.id}).encode(), method="POST"
    )
    urllib.request.urlopen(control, timeout=10).close()
    status, payload = api(replica, f"/backend-portal/articles/{api_id}")
    assert (status, payload["data"]) == (404, None)
    assert get(replica, gone.url_path)[0] == 404
    data = listing(replica, "size=50")
    assert data["totalElements"] == 14 and api_id not in {item["articleId"] for item in data["content"]}
    added = replica.add_articles(3)
    data = listing(replica, CRAWLER_LISTING.split("?", 1)[1])
    assert [item["url"] for item in data["content"][:3]] == [a.url_path for a in added]
    assert data["totalElements"] == 17 and len({item["articleId"] for item in data["content"]}) == 10


def test_api_not_json_for_the_next_n_api_requests(replica_factory) -> None:
    replica = replica_factory(articles=10, layout="app")
    article = replica.articles()[0]
    replica.set_faults(api_not_json=2)
    assert get(replica, article.url_path)[0] == 200  # pages do not spend the count
    for target in (CRAWLER_LISTING, f"/backend-portal/articles/{replica.api_id(article.id)}"):
        status, headers, body = get(replica, target, ENGLISH)
        assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
        assert body == b"<html><body>Service temporarily unavailable</body></html>"
    assert listing(replica, CRAWLER_LISTING.split("?", 1)[1])["totalElements"] == 15
    one = f"/backend-portal/articles/{replica.api_id(article.id)}"
    control = {"faults": {"api_not_json": {"next": 1, "pattern": re.escape(one) + "$"}}}
    request = urllib.request.Request(replica.base_url + "/_replica/control", data=json.dumps(control).encode())
    urllib.request.urlopen(request, timeout=10).close()
    assert listing(replica, "size=10")["totalElements"] == 15
    assert get(replica, one, ENGLISH)[2].startswith(b"<html>")
    assert api(replica, one)[0] == 200


def test_api_no_items_for_the_next_n_listing_requests(replica_factory) -> None:
    replica = replica_factory(articles=10, layout="app")
    replica.set_faults(api_no_items=1)
    assert detail(replica, replica.articles()[0].id)[0] == 200  # a detail answer does not spend it
    assert api(replica, CRAWLER_LISTING) == (200, {"code": 200, "message": "OK", "data": {"items": []}})
    assert len(listing(replica, CRAWLER_LISTING.split("?", 1)[1])["content"]) == 10
    with pytest.raises(ValueError, match="api_no_items"):
        replica.set_faults(api_no_items="often")


def test_existing_faults_reach_the_api(replica_factory) -> None:
    replica = replica_factory(articles=10, layout="app")
    article = replica.articles()[1]
    replica.set_faults(
        error_first={"status": 503, "times": 1, "pattern": "backend-portal"},
        no_date=[article.id],
        no_byline=[article.id],
    )
    assert get(replica, CRAWLER_LISTING, ENGLISH)[0] == 503
    assert get(replica, CRAWLER_LISTING, ENGLISH)[0] == 200
    target = f"/backend-portal/articles/{replica.api_id(article.id)}"
    assert get(replica, target, ENGLISH)[0] == 503
    data = api(replica, target)[1]["data"]
    assert (data["publishTime"], data["author"]) == (None, None) and data["title"] == article.title
    assert replica.counts()[CRAWLER_LISTING] == 2 and replica.counts()[target] == 2


def test_configuration_and_command_line_know_the_app_layout() -> None:
    assert ReplicaConfig(layout="app").layout == "app"
    assert ReplicaConfig(layout="app", drift="challenge", challenge_first=2).drift == "challenge"
    with pytest.raises(ValueError, match="app layout"):
        ReplicaConfig(layout="app", drift="neutral")
    assert parser().parse_args(["--layout", "app"]).layout == "app"
    assert "JSON API" in " ".join(parser().format_help().split())


HARNESS = r"""
// node harness.js SCRIPT BASE MOUNT_ATTRS_JSON: runs the page script on a minimal DOM, prints what it made
const [script, base, attrs] = process.argv.slice(2);
const requests = [];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
class Element {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; this.text = null; this.html = null; }
  set className(v) { this.attrs.class = String(v); }
  set textContent(v) { this.children = []; this.html = null; this.text = String(v); }
  set innerHTML(v) { this.children = []; this.text = null; this.html = String(v); }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  appendChild(child) { this.children.push(child); return child; }
  get outerHTML() {
    if (this.tag === '#text') { return esc(this.text); }
    const attrs = Object.entries(this.attrs).map(([k, v]) => ` ${k}="${esc(v)}"`).join('');
    const inner = this.html !== null ? this.html
      : this.text !== null ? esc(this.text) : this.children.map((c) => c.outerHTML).join('');
    return `<${this.tag}${attrs}>${inner}</${this.tag}>`;
  }
}
const mount = new Element('div');
Object.assign(mount.attrs, JSON.parse(attrs));
global.document = {
  title: 'Ministry of Public Security',
  readyState: 'complete',
  getElementById: (id) => (id === 'portal-app' ? mount : null),
  createElement: (tag) => new Element(tag),
  createTextNode: (text) => { const node = new Element('#text'); node.text = String(text); return node; },
  addEventListener: () => {},
};
const realFetch = global.fetch;
global.fetch = (url, options) => {
  requests.push({ url, headers: (options || {}).headers || {} });
  return realFetch(new URL(url, base), options);
};
let printed = false;
process.on('beforeExit', () => {
  if (printed) { return; }
  printed = true;
  process.stdout.write(JSON.stringify({ requests, title: document.title, html: mount.outerHTML }));
});
require(script);
"""


@pytest.mark.slow
def test_the_script_renders_pages_from_the_api(tmp_path: Path, replica_factory) -> None:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed: the page script cannot be run")
    replica = replica_factory(articles=10, layout="app")
    (tmp_path / "harness.js").write_text(HARNESS, "utf-8")
    (tmp_path / "portal-app.js").write_bytes(get(replica, "/js/portal-app.js")[2])

    def run(page: str) -> dict:
        attrs = Selector(text=get(replica, page)[2].decode()).css("#portal-app")[0].attrib
        args = [
            node,
            str(tmp_path / "harness.js"),
            str(tmp_path / "portal-app.js"),
            replica.base_url,
            json.dumps(attrs),
        ]
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    shown = run("/news.html")
    assert shown["requests"] == [{"url": CRAWLER_LISTING, "headers": {"Portal-Id": "28"}}]
    stories = Selector(text=shown["html"]).css("article.story")
    assert [s.css("h2.story__title a::attr(href)").get() for s in stories] == [
        a.url_path for a in replica.articles()[:10]
    ]
    assert [s.css("h2.story__title a::text").get() for s in stories] == [a.title for a in replica.articles()[:10]]
    newest = replica.articles()[0]
    assert (
        stories[0].css("time.story__time::attr(datetime)").get()
        == datetime.fromtimestamp(newest.stamp, HANOI).isoformat()
    )
    assert stories[0].css("time.story__time::text").get() == f"{newest.published:%d/%m/%Y}"
    assert stories[0].css("p.story__summary::text").get() == newest.summary
    article = next(a for a in replica.articles() if a.byline and a.captions)
    shown = run(article.url_path)
    api_target = f"/backend-portal/articles/{replica.api_id(article.id)}"
    assert shown["requests"] == [{"url": api_target, "headers": {"Portal-Id": "28"}}]
    assert shown["title"] == article.title
    page = Selector(text=shown["html"])
    assert page.css("article.article-detail h1.article__title::text").get() == article.title
    assert str(page.css("div.article__meta time::attr(datetime)").get()).startswith(article.published.isoformat())
    author = re.sub(r"^by\s+", "", article.byline or "", flags=re.I)
    assert page.css("div.article__meta span.author::text").get() == author
    paragraphs = [fold(p.xpath("string()").get()) for p in page.css("div.article__body p")]
    assert paragraphs == [fold(p) for p in article.paragraphs]
    assert page.css("div.article__body figure figcaption::text").getall() == article.captions
    assert replica.counts()[CRAWLER_LISTING] == 1 and replica.counts()[api_target] == 1
    replica.set_faults(api_not_json=1)
    shown = run("/news.html")
    assert Selector(text=shown["html"]).css("p.portal-app__error[role=alert]::text").get()
    assert not Selector(text=shown["html"]).css("article.story")
