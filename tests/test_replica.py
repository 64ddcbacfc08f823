"""The replica portal: markup contract, URLs, HTTP behaviour, controls, faults."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import html as lxml_html

from portal_crawler.replica import Replica, ReplicaConfig, assets

EXPECTED = json.loads((Path(__file__).parent / "fixtures" / "expected.json").read_text("utf-8"))
SEED_IDS = {"000": "t6294", "001": "t7006", "002": "t9402", "003": "t7136", "004": "t4987"}


def fold(text: str) -> str:
    return " ".join(text.split())


def fetch(
    rep: Replica,
    target: str,
    headers: dict | None = None,
    method: str = "GET",
    body: bytes | None = None,
    host: str = "127.0.0.1",
):
    """(status, headers as a list of pairs, body bytes) of one request."""
    connection = http.client.HTTPConnection(host, rep.port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def path_of(rep: Replica, article_id: str) -> str:
    return rep.article_url(article_id)[len(rep.base_url) :]


def page(rep: Replica, target: str, **kw) -> lxml_html.HtmlElement:
    status, _, body = fetch(rep, target, **kw)
    assert status == 200, target
    return lxml_html.fromstring(body)


def extract(doc: lxml_html.HtmlElement, layout: str) -> dict:
    """A minimal extractor following the PORTAL.md contract."""
    if layout == "legacy":
        title, date, body = "h1.detail-title", "div.detail-date", "div.detail-content"
        captions, byline = "td.image-caption", 'p[style="text-align: right;"] strong'
    else:
        title, date, body = "h1.article__title", "div.article__meta time", "div.article__body"
        captions, byline = "figure.image figcaption", "p.author"
    content = doc.cssselect(body)[0]
    paragraphs = [
        fold(" ".join(p.itertext())) for p in content.findall("p") if not p.get("class") and not p.get("style")
    ]
    return {
        "title": fold(doc.cssselect(title)[0].text_content()),
        "date_text": fold(doc.cssselect(date)[0].text_content()),
        "paragraphs": [p for p in paragraphs if p],
        "captions": [fold(c.text_content()) for c in doc.cssselect(captions)],
        "byline_text": next((fold(b.text_content()) for b in doc.cssselect(byline)[-1:]), None),
    }


@pytest.fixture(scope="module")
def legacy():
    with Replica(ReplicaConfig(articles=60, layout="legacy", seed=1)) as rep:
        yield rep


@pytest.fixture(scope="module")
def current():
    with Replica(ReplicaConfig(articles=60, layout="current", seed=1)) as rep:
        yield rep


@pytest.fixture
def fresh():
    with Replica(ReplicaConfig(articles=40, layout="legacy", seed=3)) as rep:
        yield rep


# content and markup ------------------------------------------------------------
@pytest.mark.parametrize("layout", ["legacy", "current"])
@pytest.mark.parametrize("truth", EXPECTED, ids=[e["seed"][:3] for e in EXPECTED])
def test_seed_pages_extract_to_ground_truth(request, layout, truth):
    rep = request.getfixturevalue(layout)
    legacy_id = SEED_IDS[truth["seed"][:3]]
    article_id = legacy_id if layout == "legacy" else next(a.id for a in rep.articles() if a.title == truth["title"])
    doc = page(rep, path_of(rep, article_id))
    got = extract(doc, layout)
    assert got["title"] == fold(truth["title"])
    assert got["date_text"] == truth["date_text"]
    assert got["paragraphs"] == [fold(p) for p in truth["paragraphs"]]
    assert got["captions"] == [fold(c) for c in truth["captions"]]
    assert got["byline_text"] == truth["byline_text"]
    banner = bool(doc.cssselect("div.top-notice"))
    assert banner == (truth["page_has_banner"] and layout == "legacy")
    assert bool(doc.cssselect("div.search-box")) == (truth["page_trailer"] == ["Search"] or layout == "current")


def test_seed_ids_urls_and_stamps(legacy, current):
    for truth in EXPECTED:
        if truth["url"]:
            legacy_id = SEED_IDS[truth["seed"][:3]]
            assert truth["url"].endswith(path_of(legacy, legacy_id))
    seed_002 = current.article("1728975600")
    assert seed_002.title == "Communal police force be people’s firm support"
    assert seed_002.url_path == "/article/communal-police-force-be-peoples-firm-support-1728975600"
    assert all(re.fullmatch(r"\d{10}", a.id) for a in current.articles())


def test_generated_articles_are_realistic(legacy):
    arts = legacy.articles()
    assert len(arts) == 65
    assert [a.published for a in arts] == sorted((a.published for a in arts), reverse=True)
    sizes, photos, bylines = [], set(), set()
    for article in arts[:25]:
        status, _, body = fetch(legacy, article.url_path)
        assert status == 200
        sizes.append(len(body))
        doc = lxml_html.fromstring(body)
        got = extract(doc, "legacy")
        assert got["paragraphs"] == [fold(p) for p in article.paragraphs]
        assert got["paragraphs"][0].startswith("MPS - ") and got["byline_text"] == article.byline
        assert 3 <= len(article.paragraphs) <= 13
        photos.add(len(article.images))
        bylines.add((article.byline or "None").split()[0])
        assert doc.cssselect('link[rel=stylesheet][href="/css/style.css"]')
        assert doc.cssselect('script[src="/js/main.js"]') and doc.cssselect("div.other-news li a")
    assert min(sizes) >= 20_000 and max(sizes) <= 41_000
    assert len(photos) >= 3 and {"by", "By"} <= bylines


def test_body_quirks_present(legacy):
    bodies = b"".join(fetch(legacy, a.url_path)[2] for a in legacy.articles()[:30])
    for quirk in (b"&amp;", b"&rsquo;", b"&nbsp;", b"<br>", b"<p>&nbsp;</p>", b"<p>\n\t\t\t"):
        assert quirk in bodies, quirk
    assert b'<p class="view-count">' in b"".join(
        fetch(legacy, a.url_path)[2] for a in legacy.articles() if a.published.year == 2020
    )


def test_slug_rule():
    from portal_crawler.replica.articles import slugify

    assert slugify("Thua Thien - Hue police’s “Safe Tet” plan") == "thua-thien--hue-polices-safe-tet-plan"


# URLs ---------------------------------------------------------------------------
def test_article_served_by_id_whatever_slug_query_or_host(legacy):
    canonical = fetch(legacy, path_of(legacy, "t6294"))[2]
    assert fetch(legacy, "/news-events/anything-t6294.html?utm_source=x")[2] == canonical
    assert fetch(legacy, "/social-activities/x-t6294.html")[2] == canonical
    assert fetch(legacy, "/default.aspx?ItemID=6294")[2] == canonical
    assert fetch(legacy, path_of(legacy, "t6294"), host="localhost")[2] == canonical
    assert fetch(legacy, "/news-events/x-t1.html")[0] == 404
    assert fetch(legacy, "/nothing-here")[0] == 404


def test_current_urls(current):
    newest = current.articles()[0]
    assert fetch(current, f"/article/other-slug-{newest.id}?utm_source=x")[0] == 200
    doc = page(current, "/news.html?Page=2")
    assert len(doc.cssselect("article.story h2.story__title a")) == 10
    assert doc.cssselect("nav.pagination a[rel=next]")[0].get("href") == "/news.html?Page=3"
    assert doc.cssselect("time.story__time")[0].text.count("/") == 2


def test_images_and_static_assets(legacy, current):
    for rep in (legacy, current):
        image = next(p for a in rep.articles() for p in a.images if p.endswith(".jpg"))
        status, headers, body = fetch(rep, image)
        assert status == 200 and header(headers, "Content-Type") == "image/jpeg"
        assert body[:2] == b"\xff\xd8" and body.endswith(b"\xff\xd9") and image.encode() in body
        png = next(p for a in rep.articles() for p in a.images if p.endswith(".png"))
        status, headers, body = fetch(rep, png)
        assert header(headers, "Content-Type") == "image/png" and body.startswith(b"\x89PNG")
    assert assets.jpeg("/a.jpg") != assets.jpeg("/b.jpg")
    robots = fetch(legacy, "/robots.txt")[2].decode()
    assert "User-agent: *" in robots and "Disallow: /Admin/" in robots and "Disallow: /search" in robots
    assert fetch(legacy, "/css/style.css")[0] == fetch(legacy, "/js/main.js")[0] == 200
    assert page(legacy, "/").cssselect('a[href="/news-and-events.html"]')


# listings -------------------------------------------------------------------------
def test_listing_markup_and_pager_trap(legacy):
    doc = page(legacy, "/news-and-events.html")
    assert len(doc.cssselect("div.news-item")) == 10
    assert doc.cssselect("div.news-item div.news-date") and doc.cssselect("div.news-sapo")
    hrefs = [a.get("href") for a in doc.cssselect("div.paging a")]
    assert hrefs[:3] == ["?Page=1", "?Page=2", "?Page=3"] and hrefs[-1] == "?Page=7"
    trap = page(legacy, "/news-and-events.html?Page=2&Page=5")
    links = {a.text: a.get("href") for a in trap.cssselect("div.paging a")}
    assert links["First"] == "?Page=2&Page=5&Page=1"
    assert links["Last"] == "?Page=2&Page=5&Page=7"
    assert trap.cssselect("div.paging span.active")[0].text == "5"
    assert sorted(int(n) for n in links if n.isdigit()) == [3, 4, 6, 7]


def test_last_page_value_wins_and_past_end_is_empty(legacy):
    def titles(target):
        return [a.text for a in page(legacy, target).cssselect("h3.news-title a")]

    assert titles("/news-and-events.html?Page=1&Page=3") == titles("/news-and-events.html?Page=3")
    assert titles("/news-and-events.html?Page=3") != titles("/news-and-events.html?Page=1")
    assert len(titles("/news-and-events.html?Page=7")) == 5
    assert fetch(legacy, "/news-and-events.html?Page=99")[0] == 200
    assert titles("/news-and-events.html?Page=99") == []


def test_listing_sets_two_cookies(legacy, current):
    for rep in (legacy, current):
        _, headers, _ = fetch(rep, rep.listing_url[len(rep.base_url) :])
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        assert len(cookies) == 2 and any(c.startswith("lang=en") for c in cookies)


# HTTP behaviour -------------------------------------------------------------------
def test_counts_and_reset(fresh):
    fetch(fresh, "/robots.txt")
    fetch(fresh, "/news-and-events.html?Page=2&Page=3")
    fetch(fresh, "/news-and-events.html?Page=2&Page=3")
    fetch(fresh, "/_replica/counts")
    assert fresh.counts() == {"/robots.txt": 1, "/news-and-events.html?Page=2&Page=3": 2}
    assert json.loads(fetch(fresh, "/_replica/counts")[2]) == fresh.counts()
    assert fetch(fresh, "/_replica/reset", method="POST")[0] == 200
    assert fresh.counts() == {}


def test_gzip_only_when_accepted(legacy):
    target = path_of(legacy, "t7006")
    _, plain_headers, plain = fetch(legacy, target)
    assert header(plain_headers, "Content-Encoding") is None
    _, headers, packed = fetch(legacy, target, {"Accept-Encoding": "gzip, deflate"})
    assert header(headers, "Content-Encoding") == "gzip"
    assert int(header(headers, "Content-Length")) == len(packed)
    assert gzip.decompress(packed) == plain
    _, refused, _ = fetch(legacy, target, {"Accept-Encoding": "gzip;q=0, identity"})
    assert header(refused, "Content-Encoding") is None


def test_keep_alive_and_content_length(legacy):
    connection = http.client.HTTPConnection("127.0.0.1", legacy.port, timeout=5)
    try:
        for target in ("/robots.txt", path_of(legacy, "t6294"), "/news-and-events.html"):
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
            assert response.version == 11 and int(response.getheader("Content-Length")) == len(body)
            assert response.getheader("Content-Type").startswith(("text/html; charset=utf-8", "text/plain"))
    finally:
        connection.close()


def test_head_has_headers_and_no_body(legacy):
    status, headers, body = fetch(legacy, path_of(legacy, "t6294"), method="HEAD")
    assert status == 200 and body == b""
    assert int(header(headers, "Content-Length")) == len(fetch(legacy, path_of(legacy, "t6294"))[2])


def test_etag_last_modified_and_304(legacy):
    target = path_of(legacy, "t7136")
    _, headers, _ = fetch(legacy, target)
    etag, modified = header(headers, "ETag"), header(headers, "Last-Modified")
    assert etag.startswith('"') and modified.endswith("GMT")
    status, headers304, body = fetch(legacy, target, {"If-None-Match": etag})
    assert status == 304 and body == b"" and header(headers304, "ETag") == etag
    assert fetch(legacy, target, {"If-Modified-Since": modified})[0] == 304
    assert fetch(legacy, target, {"If-None-Match": '"other"'})[0] == 200


# changes ---------------------------------------------------------------------------
def test_add_edit_delete(fresh):
    first_page = [a.id for a in fresh.store.page(1, 10)]
    added = fresh.add_articles(3)
    doc = page(fresh, "/news-and-events.html")
    hrefs = [a.get("href") for a in doc.cssselect("h3.news-title a")]
    assert [h.rsplit("-", 1)[1][:-5] for h in hrefs[:3]] == [a.id for a in added]
    assert hrefs[3].endswith(f"-{first_page[0]}.html")
    assert added[0].published > fresh.articles()[3].published

    target = path_of(fresh, "t6294")
    _, headers, before = fetch(fresh, target)
    fresh.edit_article("t6294")
    status, _, after = fetch(fresh, target, {"If-None-Match": header(headers, "ETag")})
    assert status == 200 and after != before
    assert len(extract(lxml_html.fromstring(after), "legacy")["paragraphs"]) == 8

    fresh.delete_article("t6294")
    assert fetch(fresh, target)[0] == 404
    assert "t6294" not in {a.id for a in fresh.articles()}


def test_http_controls(fresh):
    def control(orders):
        status, _, body = fetch(
            fresh,
            "/_replica/control",
            method="POST",
            body=json.dumps(orders).encode(),
            headers={"Content-Type": "application/json"},
        )
        return status, json.loads(body)

    status, done = control({"add": 2})
    assert status == 200 and done["added"] == ["t10041", "t10040"]
    assert control({"edit": "t10041"})[1]["edited"] == "t10041"
    control({"delete": "t10040"})
    assert fetch(fresh, path_of(fresh, "t10041"))[0] == 200
    assert fetch(fresh, "/news-events/x-t10040.html")[0] == 404
    control({"faults": {"no_date": ["t10041"]}})
    assert b"detail-date" not in fetch(fresh, path_of(fresh, "t10041"))[2]
    assert control({"bogus": 1})[0] == 400
    listed = json.loads(fetch(fresh, "/_replica/articles")[2])
    assert listed[0]["id"] == "t10041"
    assert not any(target.startswith("/_replica") for target in fresh.counts())


# faults ------------------------------------------------------------------------------
def test_error_first(fresh):
    fresh.set_faults(error_first={"status": 503, "times": 2, "pattern": r"t6294", "retry_after": 1})
    target = path_of(fresh, "t6294")
    first, headers, _ = fetch(fresh, target)
    assert first == 503 and header(headers, "Retry-After") == "1"
    assert [fetch(fresh, target)[0] for _ in range(2)] == [503, 200]
    assert fetch(fresh, target + "?x=1")[0] == 503  # counted per target
    assert fetch(fresh, path_of(fresh, "t7006"))[0] == 200


def test_slow(fresh):
    fresh.set_faults(slow={"seconds": 0.4, "pattern": "robots", "times": 1})
    started = time.monotonic()
    assert fetch(fresh, "/robots.txt")[0] == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    fetch(fresh, "/robots.txt")
    assert time.monotonic() - started < 0.3


def test_cut_mid_body(fresh):
    fresh.set_faults(cut={"pattern": "t7006"})
    with pytest.raises(http.client.IncompleteRead):
        fetch(fresh, path_of(fresh, "t7006"))


def test_chunked_when_asked(fresh):
    fresh.set_faults(chunked={"pattern": "t7006"})
    _, headers, body = fetch(fresh, path_of(fresh, "t7006"))
    assert header(headers, "Transfer-Encoding") == "chunked" and header(headers, "Content-Length") is None
    assert body.rstrip().endswith(b"</html>")
    _, headers, _ = fetch(fresh, path_of(fresh, "t7136"))
    assert header(headers, "Transfer-Encoding") is None


def test_malformed(fresh):
    fresh.set_faults(malformed={"pattern": "t7006"})
    body = fetch(fresh, path_of(fresh, "t7006"))[2]
    assert b"</p>" not in body and not body.rstrip().endswith(b"</html>")
    assert b"MPS - The Office of the Ministry" in body


def test_article_faults(fresh):
    ids = ["t6294", "t7006", "t7136", "t4987", "t10001", "t10002"]
    fresh.set_faults(
        no_date=[ids[0]],
        no_byline=[ids[1]],
        non_utf8=[ids[2]],
        huge=[ids[3]],
        fallback_layout=[ids[4]],
        offsite_link=[ids[5]],
        redirect_offsite=True,
    )
    assert b'class="detail-date"' not in fetch(fresh, path_of(fresh, ids[0]))[2]
    assert b"<strong>by Viet Thanh</strong>" not in fetch(fresh, path_of(fresh, ids[1]))[2]
    _, headers, body = fetch(fresh, path_of(fresh, ids[2]))
    assert header(headers, "Content-Type") == "text/html; charset=windows-1252"
    assert b"\x92" in body and "Phan Van Giang" in body.decode("cp1252")
    assert len(fetch(fresh, path_of(fresh, ids[3]))[2]) >= 4_900_000
    doc = page(fresh, path_of(fresh, ids[4]))
    assert not doc.cssselect("h1.detail-title") and doc.cssselect("div.post h2")[0].text
    assert len(doc.cssselect("div.entry p")) >= 3
    assert b'href="http://example.invalid/' in fetch(fresh, path_of(fresh, ids[5]))[2]
    status, headers, _ = fetch(fresh, "/go-away")
    assert status == 302 and header(headers, "Location").startswith("http://example.invalid/")
    fresh.set_faults()
    assert fetch(fresh, "/go-away")[0] == 404
    with pytest.raises(ValueError):
        fresh.set_faults(nonsense=True)


# scale, determinism, lifecycle --------------------------------------------------------
def test_fifty_thousand_articles_start_fast():
    started = time.monotonic()
    with Replica(ReplicaConfig(articles=50_000)) as rep:
        assert time.monotonic() - started < 2.0
        assert len(page(rep, "/news-and-events.html?Page=5001").cssselect("div.news-item")) == 5
        assert fetch(rep, "/news-events/x-t59999.html")[0] == 200


def test_same_seed_same_bytes():
    targets = ["/news-and-events.html?Page=2", "/news-events/x-t10007.html", "/news-events/x-t6294.html"]
    bodies = []
    for seed in (5, 5, 6):
        with Replica(ReplicaConfig(articles=30, seed=seed)) as rep:
            bodies.append([fetch(rep, t)[2] for t in targets])
    assert bodies[0] == bodies[1] and bodies[0][1] != bodies[2][1]


def test_stop_ends_open_connections_and_frees_port():
    rep = Replica(ReplicaConfig(articles=5)).start()
    port = rep.port
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        idle.request("GET", "/robots.txt")
        idle.getresponse().read()
        rep.stop()
        assert idle.sock.recv(10) == b""  # the keep-alive connection was ended
    finally:
        idle.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_command_line_serves_until_sigterm():
    command = [sys.executable, "-m", "portal_crawler.replica", "--port", "0", "--articles", "3", "--layout", "current"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        line = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert re.fullmatch(r"replica: serving 8 articles \(current\) at http://127\.0\.0\.1:\d+/news\.html\n", line)
