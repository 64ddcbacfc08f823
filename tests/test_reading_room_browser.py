"""The Datasette reading room in a real browser: headless Chromium at 1280×1600 over `portal-crawler browse`.

The archive: a replica crawled once, one article edited, crawled again with
`--recheck-days 36500` (version 2). Screenshots of the articles table, the
edited article's row page and its versions page are saved under the test's
tmp_path; the assertions are on the rendered DOM.
"""

from __future__ import annotations

import re
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import chromium
from helpers import crawl, stop

from portal_crawler.replica import Replica, ReplicaConfig

pytestmark = pytest.mark.slow  # crawls, a Datasette server and a browser
VIEWPORT = {"width": 1280, "height": 1600}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(archive, ID of the article edited between the two runs)."""
    archive = tmp_path_factory.mktemp("room") / "archive"
    with Replica(ReplicaConfig(articles=30, seed=5, host="127.0.0.1", port=0, layout="legacy")) as replica:
        first = crawl(archive, replica.listing_url)
        assert first.returncode == 0, first.stderr
        article = replica.articles()[0].id
        replica.edit_article(article)
        second = crawl(archive, replica.listing_url, extra=("--recheck-days", "36500"))
        assert second.returncode == 0, second.stderr
    return archive, article


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def reading_room(edited: tuple[Path, str]) -> Iterator[str]:
    """`portal-crawler browse` in its own process; its base URL once it says it listens."""
    archive, _ = edited
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portal_crawler", "browse", "--archive", str(archive), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if not line.startswith(f"browse: http://127.0.0.1:{port}/catalogue"):
        stop(process)
        pytest.fail(f"browse did not start: {line!r}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def screenshot(page, path: Path) -> None:
    page.screenshot(path=str(path))
    assert path.read_bytes().startswith(PNG)


def test_the_reading_room_in_chromium(edited: tuple[Path, str], reading_room: str, tmp_path: Path) -> None:
    _, article = edited
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{reading_room}/catalogue/articles")
        screenshot(page, tmp_path / "articles.png")
        first = page.locator("table.rows-and-columns tbody tr").first
        box = first.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], box  # a whole row in view
        body = first.locator("td.col-body").bounding_box()
        assert body and body["height"] < 40, body  # the body cut to one line

        page.goto(f"{reading_room}/catalogue/articles/{article}")
        screenshot(page, tmp_path / "article.png")
        replay = page.locator("a.portal-replay").first
        assert re.fullmatch(
            r"http://127\.0\.0\.1:8090/mps/\d{14}/http://127\.0\.0\.1:\d+/.+\.html", replay.get_attribute("href")
        )
        assert replay.is_visible()
        assert "Update 1: " in page.locator("td.col-body").inner_text()  # the whole body on the row page

        page.locator("a.portal-versions").click()
        page.wait_for_load_state()
        assert page.url.startswith(f"{reading_room}/catalogue/versions_of_article?article_id={article}")
        screenshot(page, tmp_path / "versions.png")
        rows = page.locator("table.rows-and-columns tbody tr")
        assert rows.count() == 2
        added = rows.nth(1).locator('.portal-diff .portal-change[data-kind="added"] ins')
        assert added.count() == 1 and added.inner_text().startswith("Update 1: ") and added.is_visible()
        assert "first version" in rows.nth(0).locator("td.col-changes").inner_text()
        assert rows.nth(1).locator("a.portal-replay").count() == 1
