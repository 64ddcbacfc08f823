"""App pages replay with their text: the page's script asks the API, and pywb answers from the archive.

A crawl of `replica --layout app` archives the shells, their script and the
API answers; the replica is then stopped, so whatever the replayed page shows
comes from the WARC files. Headless Chromium (Debian's, see tests/browser.py)
loads the replay as a reader would.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from browser import chromium
from helpers import crawl, rows, start_replay, stop

pytestmark = pytest.mark.slow  # a crawl, pywb in a subprocess, a browser

LISTING_API = "/backend-portal/articles/search?dateFrom=&dateTo=&category_id=1065&page=0&size=10"


def stamp(fetched_at: str) -> str:
    return "".join(ch for ch in fetched_at if ch.isdigit())[:14]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from portal_crawler.replica import Replica, ReplicaConfig

    archive = tmp_path_factory.mktemp("app-replay") / "archive"
    with Replica(ReplicaConfig(articles=10, layout="app", seed=9, port=0)) as replica:
        result = crawl(archive, replica.listing_url)
        assert result.returncode == 0, result.stdout + result.stderr
        base, listing = replica.base_url, replica.listing_url
    db = archive / "catalogue.db"
    article = rows(db, "SELECT id, url, title, body FROM articles ORDER BY published DESC LIMIT 1")[0]
    shell = rows(db, "SELECT fetched_at FROM captures WHERE url = ? AND status = 200", (article["url"],))[0]
    process, port = start_replay(archive, archive.parent / "replay.log", captures=None)
    try:
        yield {"port": port, "article": article, "at": stamp(shell["fetched_at"]), "base": base, "listing": listing}
    finally:
        stop(process)


def replayed_page(browser: Any, replayed: dict[str, Any], url: str, ready: str) -> Any:
    """The archived `url` opened in the browser, once `ready` (a CSS selector) is on it.

    The replay is not framed (replay/config.yaml: framed_replay false), so the page is the archived one.
    """
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{replayed['port']}/mps/{replayed['at']}/{url}")
    page.wait_for_selector(ready, timeout=20_000)
    return page


def test_a_replayed_article_page_shows_its_text_in_a_real_browser(replayed: dict[str, Any]) -> None:
    article = replayed["article"]
    with chromium() as browser:
        frame = replayed_page(browser, replayed, article["url"], "h1.article__title")
        assert frame.inner_text("h1.article__title").strip() == article["title"]
        body = " ".join(frame.inner_text("div.article__body").split())
        first, last = (
            " ".join(p.split()) for p in (article["body"].split("\n\n")[0], article["body"].split("\n\n")[-1])
        )
        assert first in body and last in body  # the archived API answer, rendered by the archived script


def test_a_replayed_listing_page_lists_the_archived_stories(replayed: dict[str, Any]) -> None:
    with chromium() as browser:
        frame = replayed_page(browser, replayed, replayed["listing"], "article.story h2.story__title a")
        titles = [t.strip() for t in frame.locator("h2.story__title a").all_inner_texts()]
        assert len(titles) == 10 and replayed["article"]["title"] in titles


def test_a_cache_busting_parameter_still_finds_the_archived_answer(replayed: dict[str, Any]) -> None:
    """A front end that adds `&_=<ms>` or `&t=<ms>` to its API calls still finds the archived answers.

    pywb's own rules do not cover it (its index keys sort the query, so `_` comes first and its rule breaks
    the key); `upkeep/replay_rules.py` adds rules that match by the parameters that chose the answer.
    """
    prefix = f"http://127.0.0.1:{replayed['port']}/mps/{replayed['at']}id_/{replayed['base']}"

    def get(target: str) -> dict[str, Any]:
        with urllib.request.urlopen(prefix + target, timeout=20) as answer:
            return json.load(answer)

    for page in (0, 1):  # page=1 must not be taken for page=10, nor page=0 for another page
        listing = LISTING_API.replace("page=0", f"page={page}")
        archived = get(listing)
        assert get(listing + "&_=1733011200000") == archived and get(listing + "&t=1733011200") == archived
        assert archived["data"]["number"] == page and archived["data"]["content"]
    detail = "/backend-portal/articles/" + str(get(LISTING_API)["data"]["content"][0]["articleId"])
    assert get(detail + "?_=1733011200000") == get(detail)
