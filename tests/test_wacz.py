"""`portal-crawler wacz` on a real archive: three runs of the replica (a full crawl; new, edited and rechecked
articles; a full re-crawl of revisits), packaged whole, by run and by publication date.

Each package is read back with zipfile and warcio, checked by py-wacz's `wacz validate` and by
`wacz --verify`, and replayed in pywb (`replay --wacz`, in a subprocess), revisits included.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from helpers import crawl, one_line, rows, run_cli, stop
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_timestamp

from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.warc.members import iter_members

pytestmark = pytest.mark.slow  # crawls of the replica, the CLI, py-wacz and pywb in subprocesses

PY_WACZ = Path(sys.executable).with_name("wacz")
SINCE, UNTIL = "2024-01-01", "2024-06-30"


@dataclass(frozen=True)
class Archive:
    path: Path
    edited: str  # an article that run 2 found changed (version 2)
    added: tuple[str, ...]  # articles new in run 2

    @property
    def db(self) -> Path:
        return self.path / "catalogue.db"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    path = tmp_path_factory.mktemp("wacz") / "archive"
    replica = Replica(ReplicaConfig(articles=40, layout="legacy", seed=5, host="127.0.0.1", port=0)).start()
    try:
        assert crawl(path, replica.listing_url).returncode == 0
        known = {a.id for a in replica.articles()}
        added = tuple(a.id for a in replica.add_articles(5))
        edited = sorted(known)[7]
        replica.edit_article(edited)
        assert crawl(path, replica.listing_url, extra=("--recheck-days", "36500")).returncode == 0
        assert crawl(path, replica.listing_url, extra=("--full",)).returncode == 0
    finally:
        replica.stop()
    made = Archive(path, edited, added)
    assert rows(made.db, "SELECT version FROM articles WHERE id = ?", (edited,)) == [{"version": 2}]
    yield made


def package(archive: Archive, name: str, *args: str) -> Path:
    output = archive.path.parent / name
    result = run_cli("wacz", "--archive", str(archive.path), "--output", str(output), "--force", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wacz: ") and result.stdout.rstrip().endswith(f"-> {output}"), result.stdout
    return output


@pytest.fixture(scope="module")
def whole(archive: Archive) -> Path:
    return package(archive, "whole.wacz")


@pytest.fixture(scope="module")
def run2(archive: Archive) -> Path:
    return package(archive, "run2.wacz", "--run", "2", "--title", "Run 2", "--description", "The *second* night.")


@pytest.fixture(scope="module")
def run3(archive: Archive) -> Path:
    return package(archive, "run3.wacz", "--run", "3")


@pytest.fixture(scope="module")
def dates(archive: Archive) -> Path:
    return package(archive, "dates.wacz", "--since", SINCE, "--until", UNTIL)


def page_lines(wacz: Path, name: str = "pages/pages.jsonl") -> list[dict]:
    with zipfile.ZipFile(wacz) as made:
        return [json.loads(line) for line in made.read(name).decode("utf-8").splitlines()]


def records(wacz: Path) -> dict[str, dict]:
    """Every WARC record of the package by WARC-Record-ID: type, URL, date, refers-to."""
    found = {}
    with zipfile.ZipFile(wacz) as made:
        for name in (n for n in made.namelist() if n.startswith("archive/")):
            with made.open(name) as entry:
                for record in ArchiveIterator(entry):
                    fields = record.rec_headers
                    found[fields.get_header("WARC-Record-ID")] = {
                        "type": record.rec_type,
                        "url": fields.get_header("WARC-Target-URI"),
                        "refers_to": fields.get_header("WARC-Refers-To"),
                        "file": name,
                    }
    return found


def test_the_package_has_the_1_1_1_layout_and_every_required_field(archive: Archive, whole: Path) -> None:
    with zipfile.ZipFile(whole) as made:
        names = made.namelist()
        manifest = json.loads(made.read("datapackage.json"))
        digest = json.loads(made.read("datapackage-digest.json"))
        warcs = sorted(p.name for p in (archive.path / "warc").glob("*.warc.gz"))
        assert sorted(n for n in names if n.startswith("archive/")) == [f"archive/{w}" for w in warcs]
        assert {"indexes/index.cdx", "pages/pages.jsonl", "pages/extraPages.jsonl"} <= set(names)
        for name in names:
            if name.startswith("archive/"):  # stored, byte for byte the archive's own file
                assert made.getinfo(name).compress_type == zipfile.ZIP_STORED
                assert made.read(name) == (archive.path / "warc" / name.split("/", 1)[1]).read_bytes()
        listed = {r["path"]: r for r in manifest["resources"]}
        assert set(listed) == set(names) - {"datapackage.json", "datapackage-digest.json"}
        for name, resource in listed.items():
            data = made.read(name)
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest() and resource["bytes"] == len(data)
        assert digest == {
            "path": "datapackage.json",
            "hash": "sha256:" + hashlib.sha256(made.read("datapackage.json")).hexdigest(),
        }
    assert (manifest["profile"], manifest["wacz_version"]) == ("data-package", "1.1.1")
    assert manifest["title"] and manifest["description"] and manifest["software"].startswith("portal-crawler ")
    datetime.fromisoformat(manifest["created"].replace("Z", "+00:00"))
    newest = page_lines(whole)[1]
    assert (manifest["mainPageUrl"], manifest["mainPageDate"]) == (newest["url"], newest["ts"])


def test_pages_jsonl_has_one_line_per_article_with_its_title_and_text(archive: Archive, whole: Path) -> None:
    header, *pages = page_lines(whole)
    assert header == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}
    catalogue = rows(
        archive.db,
        "SELECT a.id, a.title, a.body, c.url, c.warc_date FROM articles a JOIN captures c ON c.id ="
        " (SELECT max(id) FROM captures WHERE article_id = a.id AND status = 200)",
    )
    assert len(catalogue) == 50 and len(pages) == 50
    by_id = {page["id"]: page for page in pages}
    for article in catalogue:
        page = by_id[article["id"]]
        assert (page["title"], page["text"], page["url"]) == (article["title"], article["body"], article["url"])
        assert page["text"] and page["ts"] == article["warc_date"]
        datetime.fromisoformat(page["ts"].replace("Z", "+00:00"))
    assert "Update" in by_id[archive.edited]["text"]  # the latest version's body
    extra_header, *extra = page_lines(whole, "pages/extraPages.jsonl")
    assert extra_header["format"] == "json-pages-1.0"
    listings = {r["url"] for r in rows(archive.db, "SELECT url FROM captures WHERE url LIKE '%news-and-events.html%'")}
    assert {p["url"] for p in extra[len(pages) :]} == listings
    assert extra[: len(pages)] == pages  # ReplayWeb.page searches extraPages.jsonl when there is one


def validated(wacz: Path) -> tuple[int, int]:
    """(py-wacz's `wacz validate` exit code, `portal-crawler wacz --verify` exit code)."""
    theirs = subprocess.run([PY_WACZ, "validate", "-f", wacz], capture_output=True, text=True)
    assert "Traceback" not in theirs.stderr, theirs.stderr
    ours = run_cli("wacz", "--verify", str(wacz))
    assert "Traceback" not in ours.stderr, ours.stderr
    return theirs.returncode, ours.returncode


def test_py_wacz_and_verify_accept_every_package(whole: Path, run2: Path, run3: Path, dates: Path) -> None:
    for wacz in (whole, run2, run3, dates):
        assert validated(wacz) == (0, 0), wacz
    verified = run_cli("wacz", "--verify", str(run2))
    assert re.fullmatch(
        rf"wacz: {re.escape(str(run2))}: \d+ resources, \d+ index lines, 50 pages: ok\n", verified.stdout
    )


def tampered(wacz: Path, target: Path, change: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(wacz) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            out.writestr(info, change.get(info.filename, source.read(info.filename)))
    return target


def test_a_tampered_package_fails_both_checks(whole: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(whole) as made:
        warc = next(n for n in made.namelist() if n.startswith("archive/"))
        data = bytearray(made.read(warc))
        manifest = json.loads(made.read("datapackage.json"))
    data[4] ^= 0x01  # the first gzip member's MTIME: still a valid gzip stream (py-wacz reads it), other bytes
    assert validated(tampered(whole, tmp_path / "bytes.wacz", {warc: bytes(data)})) == (1, 1)
    manifest["title"] = "someone else's"
    assert validated(
        tampered(whole, tmp_path / "manifest.wacz", {"datapackage.json": json.dumps(manifest).encode()})
    ) == (1, 1)
    verified = run_cli("wacz", "--verify", str(tmp_path / "bytes.wacz"))
    assert f"portal-crawler: {tmp_path / 'bytes.wacz'}: {warc}: hash sha256:" in verified.stderr
    assert verified.stdout.rstrip().endswith("problems")


def test_a_run_slice_carries_its_captures_their_originals_and_requisites(archive: Archive, run2: Path) -> None:
    held = records(run2)
    run = rows(archive.db, "SELECT warc_record_id, record_type, refers_to, url FROM captures WHERE run_id = 2")
    assert {r["warc_record_id"] for r in run} <= set(held)
    assert sum(r["record_type"] == "revisit" for r in run) >= 45  # the rechecks: 304s
    for record in held.values():  # every revisit's original is in the package
        assert record["type"] != "revisit" or record["refers_to"] in held, record
    later = {r["warc_record_id"] for r in rows(archive.db, "SELECT warc_record_id FROM captures WHERE run_id = 3")}
    assert not later & set(held)
    css = rows(archive.db, "SELECT warc_record_id, run_id FROM captures WHERE url LIKE '%/css/style.css'")
    assert [c["run_id"] for c in css] == [1] and css[0]["warc_record_id"] in held  # a requisite from run 1
    added_images = rows(
        archive.db,
        f"SELECT c.warc_record_id FROM captures c, articles a, json_each(a.images) j WHERE c.url = j.value"
        f" AND a.id IN ({','.join('?' * len(archive.added))})",
        archive.added,
    )
    assert added_images and {i["warc_record_id"] for i in added_images} <= set(held)
    requests = [r for r in held.values() if r["type"] == "request"]
    assert len(requests) >= len(run)  # each exchange keeps its request record
    pages = page_lines(run2)[1:]
    assert len(pages) == 50 and {p["id"] for p in pages} >= set(archive.added)
    assert "Update" in next(p for p in pages if p["id"] == archive.edited)["text"]


def test_slice_records_are_byte_for_byte_copies_of_the_archives(archive: Archive, run3: Path, tmp_path: Path) -> None:
    originals = {}
    for warc in (archive.path / "warc").glob("*.warc.gz"):
        for offset, length, member in iter_members(warc):
            record_id = re.search(rb"WARC-Record-ID: (<[^>]+>)", member)[1].decode()
            with open(warc, "rb") as fh:
                fh.seek(offset)
                originals[record_id] = (warc.name, fh.read(length))
    with zipfile.ZipFile(run3) as made:
        for name in (n for n in made.namelist() if n.startswith("archive/")):
            copy = tmp_path / name.split("/", 1)[1]
            copy.write_bytes(made.read(name))
            members = list(iter_members(copy))
            assert members and b"WARC-Type: warcinfo" in members[0][2]
            for offset, length, member in members:
                record_id = re.search(rb"WARC-Record-ID: (<[^>]+>)", member)[1].decode()
                assert originals[record_id] == (copy.name, copy.read_bytes()[offset : offset + length])


def test_a_date_slice_holds_the_articles_published_then(archive: Archive, dates: Path) -> None:
    wanted = rows(archive.db, "SELECT id FROM articles WHERE published BETWEEN ? AND ?", (SINCE, UNTIL))
    assert 1 <= len(wanted) < 50
    assert sorted(p["id"] for p in page_lines(dates)[1:]) == sorted(a["id"] for a in wanted)
    urls = {r["url"] for r in records(dates).values()}
    others = rows(archive.db, "SELECT url FROM articles WHERE published NOT BETWEEN ? AND ?", (SINCE, UNTIL))
    assert not urls & {o["url"] for o in others}
    with zipfile.ZipFile(dates) as made:
        assert "pages/extraPages.jsonl" not in made.namelist()  # no listing page belongs to a date


# -- replay in pywb ---------------------------------------------------------------------------------


def start_replay(*waczs: Path) -> tuple[subprocess.Popen[str], int]:
    args = [arg for wacz in waczs for arg in ("--wacz", str(wacz))]
    process = subprocess.Popen(
        [sys.executable, "-m", "portal_crawler", "replay", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    announced = re.fullmatch(r"replay: http://127\.0\.0\.1:(\d+)/mps/ \((\d+) captures\)\n", line)
    if not announced:
        process.kill()
        pytest.fail(f"replay did not start: {line!r} {process.stderr.read()}")
    return process, int(announced[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def capture_of(archive: Archive, run: int, where: str, params: tuple = ()) -> dict:
    found = rows(
        archive.db,
        f"SELECT c.url, c.warc_date, c.status, c.record_type, a.title FROM captures c JOIN articles a"
        f" ON a.id = c.article_id WHERE c.run_id = ? AND {where} ORDER BY c.id LIMIT 1",
        (run, *params),
    )
    assert found, where
    return found[0]


def replayed(port: int, capture: dict) -> bytes:
    status, body = get(port, f"/mps/{iso_date_to_timestamp(capture['warc_date'])}id_/{capture['url']}")
    assert status == 200, capture
    return body


def test_run_and_date_slices_replay_in_pywb_revisits_included(
    archive: Archive, run2: Path, run3: Path, dates: Path
) -> None:
    for wacz, checks in (
        (run3, [("c.record_type = 'revisit' AND c.status = 200", ())]),  # identical-payload revisits
        (run2, [("c.status = 304", ()), ("c.article_id = ?", (archive.edited,))]),  # rechecks, an edit
        (dates, [("a.published BETWEEN ? AND ?", (SINCE, UNTIL))]),
    ):
        process, port = start_replay(wacz)
        try:
            for where, params in checks:
                run = 2 if wacz == run2 else (3 if wacz == run3 else 1)
                capture = capture_of(archive, run, where, params)
                page = replayed(port, capture).decode("utf-8", "replace")
                assert f"<title>{capture['title']}</title>" in page, (wacz.name, where)
            status, _ = get(port, "/mps/2026id_/http://127.0.0.1:1/not-archived.html")
            assert status == 404
        finally:
            stop(process)
    edited = capture_of(archive, 2, "c.article_id = ?", (archive.edited,))
    process, port = start_replay(run2)
    try:
        assert b"Update" in replayed(port, edited)  # the edited text, as run 2 fetched it
    finally:
        stop(process)


def test_a_zipnum_index_when_large_replays_and_validates(archive: Archive, tmp_path: Path) -> None:
    from portal_crawler.wacz.build import WaczRequest, write_wacz

    output = tmp_path / "zipnum.wacz"
    report = write_wacz(archive.path, WaczRequest(output, zipnum_lines=50))
    assert report.index == "indexes/index.cdx.gz" and report.index_lines > 50
    with zipfile.ZipFile(output) as made:
        assert "indexes/index.cdx" not in made.namelist()
        assert made.getinfo("indexes/index.cdx.gz").compress_type == zipfile.ZIP_STORED
        idx = made.read("indexes/index.idx").decode().splitlines()
    assert idx[0].startswith("!meta 0 ") and len(idx) == 1 + -(-report.index_lines // 1024)
    assert validated(output) == (0, 0)
    process, port = start_replay(output)
    try:
        capture = capture_of(archive, 1, "c.status = 200")
        assert f"<title>{capture['title']}</title>".encode() in replayed(port, capture)
    finally:
        stop(process)


# -- bad input -----------------------------------------------------------------------------------


def no_package_left(directory: Path, before: set[str]) -> None:
    assert {p.name for p in directory.iterdir()} == before, "a partial or temporary file was left behind"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("--run", "99"), 2, "--run 99: there is no such run"),
        (("--since", "1999-01-01", "--until", "1999-12-31"), 2, "nothing to package: articles published 1999-01-01"),
        (("--since", "2024-02-30"), 2, "--since '2024-02-30' is not a date"),
        (("--output", "{dir}/missing/x.wacz"), 2, "directory {dir}/missing does not exist"),
        (("--output", "{dir}/x.zip"), 2, "must end in .wacz"),
        (("--output", "{dir}"), 2, "is a directory"),
        (("--output", "{dir}/there.wacz"), 2, "exists: pass --force"),
        ((), 2, "give --output FILE.wacz"),
        (("--verify", "{dir}/there.wacz", "--run", "1"), 2, "--verify checks a package: give it alone"),
        (("--verify", "{dir}/there.wacz"), 2, "is not a WACZ file (not a readable ZIP"),
        (("--verify", "{dir}/none.wacz"), 2, "no such file"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(archive: Archive, tmp_path: Path, args, code, says) -> None:
    (tmp_path / "there.wacz").write_bytes(b"not a zip")
    args = tuple(a.format(dir=tmp_path) for a in args)
    if "--output" not in args and "--verify" not in args and args:
        args += ("--output", str(tmp_path / "new.wacz"))
    result = run_cli("wacz", "--archive", str(archive.path), *args)
    assert result.returncode == code and result.stdout == ""
    assert one_line(result).startswith("portal-crawler: ") and says.format(dir=tmp_path) in one_line(result)
    no_package_left(tmp_path, {"there.wacz"})


def test_replay_refuses_a_wacz_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "broken.wacz").write_bytes(b"PK not really")
    for name, says in (("missing.wacz", "no such file"), ("broken.wacz", "is not a WACZ file")):
        result = run_cli("replay", "--wacz", str(tmp_path / name), "--port", "0", timeout=60)
        assert result.returncode == 2 and says in one_line(result), result.stderr


@pytest.mark.parametrize("slice_args", [(), ("--run", "1")], ids=["whole", "run-1"])
def test_a_damaged_record_stops_the_package_and_names_it(archive: Archive, tmp_path: Path, slice_args) -> None:
    copy = tmp_path / "archive"
    shutil.copytree(archive.path, copy)
    sql = "SELECT warc_filename, warc_offset, warc_length FROM captures WHERE run_id = 1 AND article_id IS NOT NULL"
    hit = rows(copy / "catalogue.db", f"{sql} LIMIT 1 OFFSET 3")[0]
    warc = copy / "warc" / hit["warc_filename"]
    data = bytearray(warc.read_bytes())
    data[hit["warc_offset"] + hit["warc_length"] // 2] ^= 0x55
    warc.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("wacz", "--archive", str(copy), "--output", str(out / "x.wacz"), *slice_args)
    assert result.returncode == 1, result.stderr
    line = one_line(result)
    assert f"{warc}: damaged WARC record at offset {hit['warc_offset']}: " in line and "verify" in line
    no_package_left(out, set())


def test_an_unwritable_directory_is_refused_for_a_user_without_rights(archive: Archive) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as a user without write permission")
    shared = Path(tempfile.mkdtemp(dir="/tmp"))  # chmod does not bind root: the package is made as nobody
    try:
        readable = shared / "archive"
        shutil.copytree(archive.path, readable)
        for path in [shared, readable, *readable.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        result = run_cli("wacz", "--archive", str(readable), "--output", str(shared / "x.wacz"), user=65534)
        assert result.returncode == 2 and f"directory {shared} is not writable" in one_line(result)
        assert not (shared / "x.wacz").exists()
    finally:
        shutil.rmtree(shared)


def test_crawl_wacz_writes_the_runs_package_next_to_its_warc_files(tmp_path: Path, replica_factory) -> None:
    replica = replica_factory(articles=12, layout="current", seed=3)
    archive = tmp_path / "archive"
    first = crawl(archive, replica.listing_url, extra=("--full", "--wacz"))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1].startswith("wacz: 17 articles")
    replica.add_articles(2)
    second = crawl(archive, replica.listing_url, extra=("--wacz",))
    assert second.returncode == 0, second.stderr
    packages = sorted(p.name for p in (archive / "warc").glob("*.wacz"))
    assert packages == ["MPS-run-1.wacz", "MPS-run-2.wacz"]
    assert [len(page_lines(archive / "warc" / p)) - 1 for p in packages] == [17, 2]
    for name in packages:
        assert validated(archive / "warc" / name) == (0, 0)
    assert run_cli("verify", "--archive", str(archive)).returncode == 0  # the packages disturb nothing
