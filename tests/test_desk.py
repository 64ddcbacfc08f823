"""The archivist's desk: search, export, stats, browse, on catalogues built directly with Catalogue."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal_crawler.catalogue import Catalogue
from portal_crawler.desk.browse import make_app, metadata
from portal_crawler.desk.export import export
from portal_crawler.desk.search import ArticleFilter, SearchSyntaxError, search
from portal_crawler.desk.stats import collect, find_gaps, render
from portal_crawler.warc.records import RecordPointer


def article(id: str, published: str, title: str, body: str, author: str = "Minh Tuấn", **extra) -> dict:
    return {
        "id": id,
        "url": f"https://en.mps.gov.vn/news/{id}.html",
        "title": title,
        "published": published,
        "author": author,
        "summary": f"Summary of {title}.",
        "body": body,
        "captions": [],
        "images": [],
        "section": "news",
        "template": "current",
        "quality": "ok",
        "problems": [],
        **extra,
    }


ARTICLES = [
    article(
        "t101",
        "2023-01-05",
        "Police dismantle drug trafficking ring in Nghệ An",
        "Officers seized twelve kilograms of heroin at the border.\n\nThe ring’s leader, known as “Tám”, was arrested.",
        author="Hoài An",
        captions=["Heroin seized at the “Nậm Cắn” checkpoint"],
        images=["https://en.mps.gov.vn/i/1.jpg"],
    ),
    article(
        "t102",
        "2023-01-20",
        "Traffic safety campaign opens",
        "The campaign targets drink driving. Heroin was not mentioned.",
        author="Văn Lượt",
    ),
    article(
        "t103",
        "2023-02-03",
        "Cyberattack on bank foiled",
        "Experts traced the intrusion to a botnet.",
        quality="partial",
        problems=["author"],
        author=None,
    ),
    article(
        "t104",
        "2023-02-17",
        "Security cooperation with Laos",
        "Delegates discussed a cyberattack response plan and border patrols.",
        author="Hoài An",
    ),
    article(
        "t105",
        "2023-04-02",
        "Fire prevention drills in Hà Nội",
        "Firefighters staged drills in high-rise buildings.",
        author="Nguyễn Văn Lượt",
    ),
    article(
        "t106",
        "2023-04-28",
        "Amnesty for 3,000 inmates",
        "The President granted amnesty.",
        quality="fallback",
        template="fallback",
        author="Thu Hà",
    ),
]


def build(archive: Path, articles: list[dict] = ARTICLES) -> Path:
    archive.mkdir(parents=True, exist_ok=True)
    catalogue = Catalogue(archive / "catalogue.db")
    failed = catalogue.start_run("full", "mps", "0.1.0", 1)
    catalogue.finish_run(failed, "errors", {"requests": 9, "errors": 2, "warc_bytes": 500}, "2 fetches timed out")
    run = catalogue.start_run("incremental", "mps", "0.1.0", 2)
    for item in articles:
        pointer = RecordPointer(
            f"MPS-1-{item['id']}.warc.gz",
            0,
            100,
            f"<urn:uuid:{item['id']}>",
            "response",
            "sha1:X",
            "2023-05-01T00:00:00Z",
            0,
            0,
        )
        capture = catalogue.add_capture(
            run, pointer, url=item["url"], status=200, content_type="text/html", fetched_at="2023-05-01T00:00:00Z"
        )
        catalogue.upsert_article(item, capture, "2023-05-01T00:00:00Z")
    catalogue.conn.execute("UPDATE articles SET gone_since = '2023-06-01' WHERE id = 't106'")
    catalogue.finish_run(run, "ok", {"requests": 12, "articles_new": len(articles), "warc_bytes": 1234})
    catalogue.close()
    (archive / "warc").mkdir()
    (archive / "warc" / "MPS-1-a.warc.gz").write_bytes(b"x" * 1000)
    (archive / "warc" / "MPS-2-a.warc.gz").write_bytes(b"x" * 234)
    return archive


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build(tmp_path / "archive")


@pytest.fixture
def catalogue(archive: Path):
    opened = Catalogue(archive / "catalogue.db", create=False)
    yield opened
    opened.close()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal_crawler", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "60"},
    )


# -- search ---------------------------------------------------------------


def test_phrase_from_one_body_finds_that_article_first(catalogue) -> None:
    hits = search(catalogue, '"twelve kilograms of heroin"')
    assert [h.id for h in hits] == ["t101"]
    assert {h.id for h in search(catalogue, "heroin")} == {"t101", "t102"}


def test_title_outranks_body(catalogue) -> None:
    assert [h.id for h in search(catalogue, "cyberattack")] == ["t103", "t104"]


def test_filters_narrow_as_they_say(catalogue) -> None:
    ids = lambda **kw: sorted(h.id for h in search(catalogue, "border OR drills OR cyberattack OR heroin", **kw))  # noqa: E731
    assert ids() == ["t101", "t102", "t103", "t104", "t105"]
    assert ids(since="2023-02-03") == ["t103", "t104", "t105"]
    assert ids(until="2023-02-03") == ["t101", "t102", "t103"]
    assert ids(since="2023-02-01", until="2023-02-28") == ["t103", "t104"]
    assert ids(author="hoài an") == ["t101", "t104"]
    assert ids(author="HOAI") == ["t101", "t104"]  # accents and case ignored
    assert ids(author="Lượt") == ["t102", "t105"]  # a substring
    assert ids(author="lượt", since="2023-03-01") == ["t105"]
    assert len(search(catalogue, "border OR drills OR cyberattack OR heroin", limit=2)) == 2


def test_snippets_mark_the_matched_words(catalogue) -> None:
    hit = search(catalogue, "kilograms heroin")[0]
    assert "[kilograms]" in hit.snippet and "[heroin]" in hit.snippet
    assert search(catalogue, "drills", marks=("<b>", "</b>"))[0].snippet.count("<b>drills</b>") >= 1
    assert "\n" not in hit.snippet


def test_diacritics_are_optional_in_queries(catalogue) -> None:
    assert [h.id for h in search(catalogue, "Ha Noi")] == ["t105"]
    assert [h.id for h in search(catalogue, "Nghệ")] == ["t101"]


def test_fts_syntax_errors_say_how_to_quote(catalogue) -> None:
    for query in ("AND", '"unbalanced', "NEAR(", "drug OR", "nosuch:word"):
        with pytest.raises(SearchSyntaxError, match="wrap them in double quotes") as caught:
            search(catalogue, query)
        assert "\n" not in str(caught.value)


def test_search_cli_json(archive: Path) -> None:
    result = run("search", "heroin", "--archive", str(archive), "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert sorted(h["id"] for h in hits) == ["t101", "t102"]
    hits = [h for h in hits if h["id"] == "t101"]
    assert set(hits[0]) == {"id", "title", "published", "author", "url", "snippet", "rank", "replay_url"}
    assert hits[0]["replay_url"] == "http://127.0.0.1:8090/mps/20230501000000/https://en.mps.gov.vn/news/t101.html"
    assert "[heroin]" in hits[0]["snippet"] and hits[0]["author"] == "Hoài An" and "\x1b" not in result.stdout


def test_search_cli_text_has_no_ansi_when_piped(archive: Path) -> None:
    result = run("search", "drills", "--archive", str(archive))
    assert result.returncode == 0 and result.stdout.startswith("t105  2023-04-02  Fire prevention drills in Hà Nội")
    assert "[drills]" in result.stdout and "\x1b" not in result.stdout


def test_query_bounds_are_one_clear_error(catalogue) -> None:
    from portal_crawler.desk.search import MAX_QUERY_CHARS, MAX_QUERY_TERMS

    words = [f"word{i}" for i in range(MAX_QUERY_TERMS)]
    assert search(catalogue, " OR ".join([*words[:-1], "heroin"]))  # 64 terms, operators not counted: answered
    with pytest.raises(SearchSyntaxError, match="has 65 terms: at most 64 are searched"):
        search(catalogue, " ".join([*words, "heroin"]))
    with pytest.raises(SearchSyntaxError, match="at most 1,000 are searched"):
        search(catalogue, '"' + "x" * MAX_QUERY_CHARS + '"')
    with pytest.raises(SearchSyntaxError, match="not UTF-8 text"):
        search(catalogue, "caf\udce9")


def fts_statements(catalogue, query: str) -> list[str]:
    seen: list[str] = []
    catalogue.conn.set_trace_callback(seen.append)
    try:
        search(catalogue, query)
    finally:
        catalogue.conn.set_trace_callback(None)
    return [sql for sql in seen if "MATCH" in sql and not sql.startswith("--")]  # ours, not FTS5's own


def test_a_query_costs_the_same_statements_whatever_its_size(catalogue) -> None:
    """FTS5's snippet() scores each window against each match (quadratic in the query's matches): never called;
    a 64-term query runs the same two statements as a 2-term one."""
    small = fts_statements(catalogue, "heroin OR drills")
    large = fts_statements(catalogue, " OR ".join(["heroin", "drills", *(f"w{i}" for i in range(62))]))
    assert len(small) == len(large) == 2
    assert not any("snippet(" in sql for sql in small + large)


def test_a_search_maps_a_read_only_catalogue_and_nothing_else_does(archive: Path, catalogue) -> None:
    """Mapped pages count in resident memory and turn I/O errors into SIGBUS: only a read-only search maps."""
    from portal_crawler.desk.search import MAPPED_BYTES

    reader = Catalogue.reader(archive / "catalogue.db")
    try:
        assert reader.conn.execute("PRAGMA mmap_size").fetchone()[0] == 0  # a crawl's or a wacz's reader
        assert search(reader, "heroin")[0].snippet == search(catalogue, "heroin")[0].snippet
        assert reader.conn.execute("PRAGMA mmap_size").fetchone()[0] == MAPPED_BYTES
        assert catalogue.conn.execute("PRAGMA mmap_size").fetchone()[0] == 0  # a writer never maps
    finally:
        reader.close()


def test_snippets_cut_from_a_long_body_mark_a_whole_phrase(tmp_path: Path) -> None:
    body = " ".join(f"filler{i}" for i in range(300)) + " the ring leader was arrested at dawn. " + "tail " * 50
    built = build(tmp_path / "long", [article("t900", "2023-06-01", "Long", body)])
    opened = Catalogue(built / "catalogue.db", create=False)
    try:
        snippet = search(opened, '"ring leader"')[0].snippet
    finally:
        opened.close()
    assert snippet.startswith("…") and snippet.endswith("…") and "[ring leader]" in snippet
    assert len(snippet.split()) == 16


# -- export ---------------------------------------------------------------


def expected_fields(catalogue: Catalogue) -> list[str]:
    return [row[1] for row in catalogue.conn.execute("PRAGMA table_info(articles)")]


def test_export_jsonl_round_trips(archive: Path, catalogue) -> None:
    result = run("export", "--archive", str(archive))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == [a["id"] for a in ARTICLES]
    assert all(list(r) == expected_fields(catalogue) for r in records)
    first = records[0]
    assert first["body"] == ARTICLES[0]["body"] and "“Tám”" in first["body"] and "ring’s" in first["body"]
    assert (
        first["captions"] == ["Heroin seized at the “Nậm Cắn” checkpoint"] and first["images"] == ARTICLES[0]["images"]
    )
    assert records[2]["problems"] == ["author"] and records[2]["author"] is None
    assert records[1]["author"] == "Văn Lượt" and records[5]["gone_since"] == "2023-06-01"


def test_export_csv_to_file_round_trips(archive: Path, catalogue, tmp_path: Path) -> None:
    out = tmp_path / "articles.csv"
    result = run("export", "--archive", str(archive), "--format", "csv", "--output", str(out))
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and [p.name for p in tmp_path.iterdir() if "articles" in p.name] == [
        out.name
    ]
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert [r["id"] for r in rows] == [a["id"] for a in ARTICLES] and list(rows[0]) == expected_fields(catalogue)
    assert rows[0]["body"] == ARTICLES[0]["body"] and rows[0]["author"] == "Hoài An"
    assert json.loads(rows[0]["captions"]) == ARTICLES[0]["captions"] and json.loads(rows[2]["problems"]) == ["author"]
    assert rows[4]["author"] == "Nguyễn Văn Lượt" and rows[2]["author"] == ""


def test_export_filters_and_streams(catalogue, tmp_path: Path) -> None:
    out = tmp_path / "hoai.jsonl"
    assert export(catalogue, "jsonl", out, author="hoai an", since="2023-02-01") == 1
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["t104"]
    from portal_crawler.desk.export import iter_articles

    rows = iter_articles(catalogue, ArticleFilter.parse(until="2023-01-31"))
    assert not isinstance(rows, list) and [r["id"] for r in rows] == ["t101", "t102"]


def test_export_never_writes_into_the_archive(archive: Path, catalogue) -> None:
    from portal_crawler.desk.search import DeskError

    before = {path: path.read_bytes() for path in archive.rglob("*") if path.is_file()}
    for target in (archive / "catalogue.db", archive / "warc" / "MPS-1-a.warc.gz", archive / "new.jsonl"):
        with pytest.raises(DeskError, match="inside the archive"):
            export(catalogue, "jsonl", target, force=True)
    outside = archive.parent / "link"
    outside.symlink_to(archive / "warc")
    with pytest.raises(DeskError, match="inside the archive"):
        export(catalogue, "jsonl", outside / "x.jsonl")
    assert {path: path.read_bytes() for path in archive.rglob("*") if path.is_file()} == before


def test_export_replaces_a_file_only_with_force(archive: Path, catalogue, tmp_path: Path) -> None:
    from portal_crawler.desk.search import DeskError

    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n")
    with pytest.raises(DeskError, match="exists: pass --force"):
        export(catalogue, "jsonl", out)
    assert out.read_text() == "keep me\n"
    assert export(catalogue, "jsonl", out, force=True) == len(ARTICLES)
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(ARTICLES)
    result = run("export", "--archive", str(archive), "--output", str(out))
    assert result.returncode == 2 and "pass --force" in result.stderr and len(result.stderr.splitlines()) == 1
    assert run("export", "--archive", str(archive), "--output", str(out), "--force").returncode == 0


def test_a_failed_export_leaves_no_half_file(catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import portal_crawler.desk.export as module

    def disk_full(articles, out) -> int:
        out.write(json.dumps(next(articles)) + "\n")  # half an export reaches the temporary file
        raise OSError(errno.ENOSPC, "No space left on device")

    exports = tmp_path / "exports"
    exports.mkdir()
    out = exports / "out.jsonl"
    monkeypatch.setattr(module, "write_jsonl", disk_full)
    with pytest.raises(OSError, match="No space left"):
        export(catalogue, "jsonl", out)
    assert list(exports.iterdir()) == []
    out.write_text("the previous export\n")
    with pytest.raises(OSError, match="No space left"):
        export(catalogue, "jsonl", out, force=True)
    assert list(exports.iterdir()) == [out] and out.read_text() == "the previous export\n"


# -- stats ----------------------------------------------------------------


def test_stats_shows_the_month_gap(archive: Path, catalogue) -> None:
    figures = collect(catalogue, archive / "warc")
    assert figures.per_month == {"2023-01": 2, "2023-02": 2, "2023-03": 0, "2023-04": 2}
    assert [(g.first, g.months, g.suspicious) for g in figures.gaps] == [("2023-03", 1, True)]
    assert figures.quality == {"ok": 4, "partial": 1, "fallback": 1} and figures.gone == 1
    assert figures.warc_bytes_on_disk == 1234 and figures.warc_bytes_from_runs == 1734
    assert figures.runs["count"] == 2 and figures.runs["last"]["status"] == "ok"
    assert [f["id"] for f in figures.failures] == [1]
    result = run("stats", "--archive", str(archive))
    assert result.returncode == 0, result.stderr
    assert "!! 2023-03: 1 month(s) without articles (2 before, 2 after)" in result.stdout
    assert "█" in result.stdout and "failed: run 1 errors" in result.stdout and "1.2 KB on disk" in result.stdout
    bars = [line for line in result.stdout.splitlines() if "█" in line]
    assert len(bars) == 4 and max(map(len, bars)) in range(50, 61)  # scaled to the terminal: COLUMNS=60


def test_gap_flags_only_busy_neighbours() -> None:
    gaps = find_gaps(
        {"2020-01": 40, "2020-02": 0, "2020-03": 38, "2020-04": 1, "2020-05": 0, "2020-06": 0, "2020-07": 41}
    )
    assert [(g.first, g.last, g.suspicious) for g in gaps] == [
        ("2020-02", "2020-02", True),
        ("2020-05", "2020-06", False),
    ]


def test_stats_json_and_empty_catalogue(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    Catalogue(empty / "catalogue.db").close()
    result = run("stats", "--archive", str(empty), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["articles"] == 0
    opened = Catalogue(empty / "catalogue.db", create=False)
    assert "no dated articles" in render(collect(opened, empty / "warc"))
    opened.close()


# -- browse ---------------------------------------------------------------


def test_datasette_serves_the_catalogue_and_canned_queries(archive: Path) -> None:
    datasette = make_app(archive / "catalogue.db")

    async def get(path: str):
        response = await datasette.client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        return response.json()

    async def check() -> None:
        await datasette.invoke_startup()
        assert (await get("/-/metadata.json"))["title"] == "MPS news portal archive"
        assert len(await get("/catalogue/articles.json?_shape=array")) == len(ARTICLES)
        assert {r["id"] for r in await get("/catalogue/articles.json?_search=heroin&_shape=array")} == {"t101", "t102"}
        assert len(await get("/catalogue/latest_articles.json?_shape=array")) == len(ARTICLES)
        assert {r["id"] for r in await get("/catalogue/articles_by_author.json?author=HOAI&_shape=array")} == {
            "t101",
            "t104",
        }
        assert await get("/catalogue/articles_per_month.json?_shape=array") == [
            {"month": "2023-01", "articles": 2},
            {"month": "2023-02", "articles": 2},
            {"month": "2023-04", "articles": 2},
        ]
        captures = await get("/catalogue/captures_of_article.json?article_id=t101&_shape=array")
        assert [c["warc_filename"] for c in captures] == ["MPS-1-t101.warc.gz"]

    try:
        asyncio.run(check())
    finally:
        for database in datasette.databases.values():
            database.close()


def test_metadata_describes_every_table_and_column(catalogue) -> None:
    tables = metadata()["databases"]["catalogue"]["tables"]
    for table in ("articles", "versions", "captures", "runs"):
        columns = [row[1] for row in catalogue.conn.execute(f"PRAGMA table_info({table})")]
        assert tables[table]["description"] and set(tables[table]["columns"]) == set(columns), table
    assert set(metadata()["databases"]["catalogue"]["queries"]) == {
        "latest_articles",
        "articles_by_author",
        "versions_of_article",
        "articles_per_month",
        "articles_per_year",
        "captures_of_article",
    }


# -- benchmark -------------------------------------------------------------


def test_search_bench_runs_small() -> None:
    from bench.search_bench import run as bench

    figures = bench(n_articles=300, queries=20)
    assert (
        set(figures) == {"search_p50_ms", "search_p95_ms"} and 0 < figures["search_p50_ms"] <= figures["search_p95_ms"]
    )
