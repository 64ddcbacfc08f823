"""The reading room without a crawl: diffs, `history`, `diff`, `show --cite` and the Datasette plugin.

The catalogue is built with the Catalogue API: article t1 has three versions
(v2 edits a word, drops a comma and adds a paragraph; v3 only moves a comma),
article t2 has one. Crawled archives, WARC records and replay are in
test_citations.py; the browser in test_reading_room_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal_crawler.catalogue import Catalogue
from portal_crawler.cli import cli
from portal_crawler.desk.browse import make_app
from portal_crawler.desk.chart import bar_chart, slots
from portal_crawler.desk.diff import align, compare, is_minor, word_diff
from portal_crawler.desk.diff_view import render_html, render_text
from portal_crawler.desk.wayback import stamp14
from portal_crawler.warc.records import RecordPointer

P1 = "Officers seized twelve kilograms of heroin at the border, the ministry said."
P2 = "The ring’s leader, known as Tám, was arrested in Nghệ An."
P3 = "Investigators are still looking for two accomplices."
V1 = {"title": "Police dismantle drug ring", "body": "\n\n".join([P1, P2, P3]), "captions": ["The border post"]}
V2 = {
    "title": "Police dismantle heroin ring",
    "body": "\n\n".join([P1, P2.replace("leader,", "leader"), P3.replace("two", "three"), "Update: a third arrest."]),
    "captions": ["The border post", "Seized packets"],
}
V3 = {**V2, "body": V2["body"].replace("border, the", "border; the")}
TIMES = ("2026-11-01T08:00:00Z", "2026-11-02T09:30:15Z", "2026-11-03T10:45:30Z")


def article(id: str, **fields) -> dict:
    base = {"id": id, "url": f"https://en.mps.gov.vn/news/{id}.html", "published": "2026-10-30"}
    base |= {"author": "Hoài An", "summary": "Lead.", "images": [], "section": "news", "template": "current"}
    return base | {"quality": "ok", "problems": [], **fields}


def build(archive: Path) -> Path:
    """t1 in three versions, t2 in one, each version with a capture row of its own."""
    archive.mkdir(parents=True)
    catalogue = Catalogue(archive / "catalogue.db")
    run = catalogue.start_run("full", "mps", "0.1.0", 1)
    serial = 0
    for id_, versions in (("t1", (V1, V2, V3)), ("t2", (V1,))):
        for fields, at in zip(versions, TIMES, strict=False):
            serial += 1
            warc_date = at.replace("Z", f".{serial:06d}Z")
            record = f"<urn:uuid:00000000-0000-4000-8000-{serial:012d}>"
            pointer = RecordPointer(
                "MPS-1.warc.gz", serial * 1000, 900, record, "response", f"sha1:D{serial}", warc_date, 0, 0
            )
            url = f"https://en.mps.gov.vn/news/{id_}.html"
            capture = catalogue.add_capture(run, pointer, url=url, status=200, content_type="text/html", fetched_at=at)
            catalogue.upsert_article(article(id_, **fields), capture, at)
    catalogue.finish_run(run, "ok", {"requests": 4})
    catalogue.close()
    (archive / "warc").mkdir()
    return archive


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build(tmp_path / "archive")


def cli_run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- the diff itself --------------------------------------------------------------------------


def test_word_diff_keeps_every_token_and_marks_only_the_change() -> None:
    segments = word_diff("look for two accomplices.", "look for three accomplices.")
    assert [(s.op, s.text) for s in segments] == [
        ("equal", "look for "),
        ("delete", "two"),
        ("insert", "three"),
        ("equal", " accomplices."),
    ]
    assert "".join(s.text for s in segments if s.op != "insert") == "look for two accomplices."


def test_minor_means_the_same_words_in_the_same_order() -> None:
    assert is_minor("leader, known", "leader known") and is_minor("a  b", "a b") and is_minor("end.", "end!")
    assert not is_minor("two", "three") and not is_minor("The", "the") and not is_minor("a b", "b a")


def test_paragraphs_are_paired_by_their_words_not_by_position() -> None:
    old = ["alpha beta gamma delta", "one two three four", "x y z w"]
    new = ["brand new paragraph here", "alpha beta gamma delta", "one two three five", "x y z w"]
    assert align(old, new) == [(None, 0), (1, 2)]
    assert align(["a b c d"], ["p q r s"]) == [(0, None), (None, 0)]  # nothing shared: removed and added


def test_compare_reports_each_field_paragraph_and_caption() -> None:
    old, new = article("t1", version=1, **V1), article("t1", version=2, **V2)
    found = compare("t1", old, new)
    described = [(c.part, c.kind, c.old_position, c.new_position, c.minor) for c in found.changes]
    assert described == [
        ("title", "changed", None, None, False),
        ("paragraph", "changed", 2, 2, True),
        ("paragraph", "changed", 3, 3, False),
        ("paragraph", "added", None, 4, False),
        ("caption", "added", None, 2, False),
    ]
    assert found.summary() == "title changed; body paragraphs: 1 added, 2 changed (1 minor); captions: 1 added"
    assert compare("t1", None, new).summary() == "first version"


def test_images_compare_by_path_so_a_host_alias_is_no_change() -> None:
    old = article("t1", version=1, images=["https://en.bocongan.gov.vn/i/1.jpg"])
    new = article("t1", version=2, images=["https://en.mps.gov.vn/i/1.jpg", "https://en.mps.gov.vn/i/2.jpg"])
    changes = compare("t1", old, new).changes
    assert [(c.part, c.kind, c.segments[0].text) for c in changes] == [
        ("image", "added", "https://en.mps.gov.vn/i/2.jpg")
    ]


def test_text_marks_changes_and_colours_only_when_asked() -> None:
    found = compare("t1", article("t1", version=1, **V1), article("t1", version=2, **V2))
    plain = render_text(found, "t1: 1 -> 2")
    assert "Police dismantle [-drug-]{+heroin+} ring" in plain
    assert "paragraph 2 changed (minor: white space or punctuation only):\n    The ring’s leader[-,-] known" in plain
    assert "paragraph 4 added:\n    {+Update: a third arrest.+}" in plain and "\x1b[" not in plain
    assert "\x1b[31m[-drug-]\x1b[0m\x1b[32m{+heroin+}\x1b[0m" in render_text(found, "t1", colour=True)


def test_long_unchanged_stretches_are_cut_around_the_change() -> None:
    words = " ".join(f"w{i}" for i in range(100))
    found = compare(
        "t1", article("t1", version=1, body=words + ", end."), article("t1", version=2, body=words + " end.")
    )
    shown = render_text(found, "t1").splitlines()[-1]
    assert shown == "    … w88 w89 w90 w91 w92 w93 w94 w95 w96 w97 w98 w99[-,-] end."


def test_html_escapes_what_the_page_says() -> None:
    old = article("t1", version=1, title="<b>Bold</b> & plain")
    new = article("t1", version=2, title="<script>x</script> & plain")
    html = render_html(compare("t1", old, new))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;<del>b</del><ins>script</ins>&gt;<del>Bold</del><ins>x</ins>" in html and "&amp; plain" in html


def test_wayback_timestamps_are_the_warc_date_to_the_second() -> None:
    assert stamp14("2026-12-01T09:26:39.123456Z") == "20261201092639" == stamp14("2026-12-01T09:26:39Z")
    with pytest.raises(ValueError):
        stamp14("2026-12-01")


# -- history, diff, show --cite ---------------------------------------------------------------


def test_history_lists_versions_changes_replay_urls_and_the_timemap(archive: Path) -> None:
    code, out, _ = cli_run("history", "t1", "--archive", str(archive), "--replay-base", "http://127.0.0.1:9999/")
    assert code == 0, out
    url = "https://en.mps.gov.vn/news/t1.html"
    assert f"TimeMap: http://127.0.0.1:9999/mps/timemap/link/{url}" in out
    lines = out.splitlines()
    assert "v1  2026-11-01T08:00:00Z  first version" in lines
    assert (
        "v2  2026-11-02T09:30:15Z  title changed; body paragraphs: 1 added, 2 changed (1 minor); captions: 1 added"
        in lines
    )
    assert "v3  2026-11-03T10:45:30Z  body paragraphs: 1 changed (1 minor)" in lines
    assert f"    replay: http://127.0.0.1:9999/mps/20261102093015/{url}" in lines
    code, out, _ = cli_run("history", "t1", "--archive", str(archive), "--json")
    found = json.loads(out)
    assert [v["version"] for v in found["versions"]] == [1, 2, 3]
    assert found["versions"][2]["changes"][0]["minor"] is True
    assert found["timemap_url"] == f"http://127.0.0.1:8090/mps/timemap/link/{url}"


def test_diff_defaults_to_the_latest_two_and_marks_a_punctuation_edit_minor(archive: Path) -> None:
    code, out, _ = cli_run("diff", "t1", "--archive", str(archive))
    assert code == 0
    assert out.startswith("t1: version 2 (2026-11-02T09:30:15Z) -> version 3 (2026-11-03T10:45:30Z)\n")
    assert "paragraph 1 changed (minor: white space or punctuation only):" in out
    assert "at the border[-,-]{+;+} the ministry said." in out and "\x1b[" not in out  # not a terminal: no colour


def test_diff_of_chosen_versions_shows_the_changed_paragraph(archive: Path) -> None:
    code, out, _ = cli_run("diff", "t1", "1", "2", "--archive", str(archive))
    assert code == 0
    assert "paragraph 3 changed:\n    Investigators are still looking for [-two-]{+three+} accomplices." in out
    code, out, _ = cli_run("diff", "t1", "1", "--archive", str(archive), "--json")  # V1 alone: against the latest
    found = json.loads(out)
    assert (found["old"], found["new"]) == (1, 3)
    segments = found["changes"][1]["segments"]
    assert {"op": "insert", "text": ";"} in segments and found["changes"][1]["part"] == "paragraph"


def test_diff_of_one_version_or_a_missing_one(archive: Path) -> None:
    code, out, err = cli_run("diff", "t2", "--archive", str(archive))
    assert (code, out) == (0, "") and "t2 has one version only" in err
    code, _, err = cli_run("diff", "t1", "1", "7", "--archive", str(archive))
    assert code == 2 and "has versions 1 to 3, not 7" in err
    code, _, err = cli_run("history", "t9", "--archive", str(archive))
    assert code == 2 and "no article 't9'" in err


def test_cite_names_the_version_capture_record_and_digest(archive: Path) -> None:
    code, out, _ = cli_run("show", "t1", "--article-version", "2", "--cite", "--archive", str(archive))
    assert code == 0, out
    url = "https://en.mps.gov.vn/news/t1.html"
    assert out.startswith(f'Hoài An. "Police dismantle heroin ring." en.mps.gov.vn, published 2026-10-30. {url}')
    assert "Captured:            2026-11-02T09:30:15.000002Z (article t1, version 2)" in out
    assert f"Replay:              http://127.0.0.1:8090/mps/20261102093015/{url}" in out
    assert "WARC-Record-ID:      <urn:uuid:00000000-0000-4000-8000-000000000002>" in out
    assert "WARC-Payload-Digest: sha1:D2" in out and "MPS-1.warc.gz at offset 2000 (response record)" in out


def test_show_prints_the_replay_url_and_keeps_version_as_an_alias(archive: Path) -> None:
    code, new_name, _ = cli_run("show", "t1", "--article-version", "1", "--archive", str(archive))
    assert (
        code == 0
        and "Replay:    http://127.0.0.1:8090/mps/20261101080000/https://en.mps.gov.vn/news/t1.html" in new_name
    )
    assert cli_run("show", "t1", "--version", "1", "--archive", str(archive))[1] == new_name
    options = [line.split()[0] for line in cli_run("show", "--help")[1].splitlines() if line.startswith("  -")]
    assert "--article-version" in options and "--version" not in options  # hidden, named in the help text only
    code, _, err = cli_run("show", "t1", "--version", "1", "--article-version", "2", "--archive", str(archive))
    assert code == 2 and "disagree" in err
    shown = json.loads(cli_run("show", "t1", "--json", "--archive", str(archive))[1])
    assert shown["replay_url"] == "http://127.0.0.1:8090/mps/20261103104530/https://en.mps.gov.vn/news/t1.html"


def test_search_prints_each_hit_with_the_replay_url_of_its_latest_version(archive: Path) -> None:
    code, out, _ = cli_run("search", "accomplices", "--archive", str(archive), "--replay-base", "http://10.0.0.1:81")
    assert code == 0
    assert "    replay: http://10.0.0.1:81/mps/20261103104530/https://en.mps.gov.vn/news/t1.html" in out.splitlines()
    assert "    replay: http://10.0.0.1:81/mps/20261101080000/https://en.mps.gov.vn/news/t2.html" in out.splitlines()


# -- the Datasette reading room ---------------------------------------------------------------


def pages(archive: Path, *paths: str) -> list[str]:
    datasette = make_app(archive / "catalogue.db", replay_base="http://127.0.0.1:8123")

    async def fetch() -> list[str]:
        await datasette.invoke_startup()
        answers = [await datasette.client.get(path) for path in paths]
        assert [a.status_code for a in answers] == [200] * len(paths), [a.text[:300] for a in answers]
        return [a.text for a in answers]

    try:
        return asyncio.run(fetch())
    finally:
        for database in datasette.databases.values():
            database.close()


def test_versions_view_shows_each_diff_and_replay_link(archive: Path) -> None:
    html, data = pages(
        archive,
        "/catalogue/versions_of_article?article_id=t1",
        "/catalogue/versions_of_article.json?article_id=t1&_shape=array",
    )
    assert "<del>drug</del><ins>heroin</ins>" in html and "first version" in html
    assert html.count('class="portal-change portal-minor"') == 2  # v2's comma, v3's semicolon
    assert 'href="http://127.0.0.1:8123/mps/20261103104530/https://en.mps.gov.vn/news/t1.html"' in html
    rows = json.loads(data)
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert json.loads(rows[2]["changes"])["summary"] == "body paragraphs: 1 changed (1 minor)"


def test_article_rows_link_to_their_replay_and_versions_and_cut_bodies_in_tables(archive: Path) -> None:
    table, row, css = pages(
        archive, "/catalogue/articles", "/catalogue/articles/t1", "/-/static-plugins/portal_crawler.datasette/room.css"
    )
    replay = 'class="portal-replay" href="http://127.0.0.1:8123/mps/20261103104530/https://en.mps.gov.vn/news/t1.html"'
    assert replay in table and replay in row
    assert 'class="portal-versions" href="/catalogue/versions_of_article?article_id=t1">versions (3)' in row
    body = V3["body"]
    assert body.replace("\n", "&#10;") not in table and body[:290] in table  # cut in the table (300 characters)
    assert re.search(r'<td class="col-body[^"]*">' + re.escape(body[:40]), row) and "Update: a third arrest." in row
    assert "portal-record" in row and "white-space: nowrap" in css


def test_author_query_folds_case_and_diacritics_like_the_cli(archive: Path) -> None:
    (data,) = pages(archive, "/catalogue/articles_by_author.json?author=HOAI&_shape=array")
    assert {r["id"] for r in json.loads(data)} == {"t1", "t2"}


def test_counts_per_month_and_year_are_drawn(archive: Path) -> None:
    month, year = pages(archive, "/catalogue/articles_per_month", "/catalogue/articles_per_year")
    assert '<svg class="portal-chart"' in month and "<title>2026-10: 2 articles</title>" in month
    assert "<title>2026: 2 articles</title>" in year


def test_the_chart_fills_the_gaps() -> None:
    assert slots({"2023-11": 2, "2024-02": 1}) == [("2023-11", 2), ("2023-12", 0), ("2024-01", 0), ("2024-02", 1)]
    assert slots({"2021": 3, "2023": 1}) == [("2021", 3), ("2022", 0), ("2023", 1)]
    svg = bar_chart([("2023-11", 2), ("2024-02", 1)], "Articles <per> month")
    assert svg.count('class="portal-bar"') == 4 and "<title>2023-12: 0 articles</title>" in svg
    assert "Articles &lt;per&gt; month" in svg and bar_chart([], "none") == ""
