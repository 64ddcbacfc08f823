"""The WACZ package's parts on their own: page requisites, byte ranges, the streamed ZIP, verify, the in-place index.

No crawl here: packages are made from the small WARC samples (tests/data/warc)
by py-wacz's `wacz create`, or by hand, and read back with zipfile.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from portal_crawler.wacz.indexing import not_modified
from portal_crawler.wacz.layout import SliceSpec, WaczProblem
from portal_crawler.wacz.package import PackageWriter, check_output
from portal_crawler.wacz.records import ChunkReader, coalesce
from portal_crawler.wacz.replay_index import in_place_lines, write_replay_index
from portal_crawler.wacz.requisites import embedded_urls
from portal_crawler.wacz.verify import verify_wacz
from portal_crawler.wacz.zipped import data_start, index_lines

SAMPLES = Path(__file__).parent / "data" / "warc"
PY_WACZ = Path(sys.executable).with_name("wacz")  # py-wacz's command, in a subprocess: it leaves files open
PAGE = "http://127.0.0.1:8000/news-events/a-t1.html"


def test_embedded_urls_are_the_images_scripts_and_stylesheets_made_absolute() -> None:
    html = b"""<html><head><link rel="Stylesheet" href="/css/style.css"><link rel="icon" href="/favicon.ico">
    <link rel="alternate stylesheet" href="alt.css#x"><script src="../js/main.js"></script><script>var a;</script>
    </head><body><img src="/Uploads/a.jpg"><img src=" /Uploads/a.jpg "><img src="data:image/png;base64,AA=="><img>
    <a href="/other.html">x</a></body></html>"""
    assert embedded_urls(html, PAGE) == [
        "http://127.0.0.1:8000/css/style.css",
        "http://127.0.0.1:8000/news-events/alt.css",
        "http://127.0.0.1:8000/js/main.js",
        "http://127.0.0.1:8000/Uploads/a.jpg",
    ]


def test_embedded_urls_follow_a_base_element_and_survive_an_empty_page() -> None:
    html = b'<html><head><base href="http://127.0.0.1:8000/static/"></head><body><img src="b.png"></body></html>'
    assert embedded_urls(html, PAGE) == ["http://127.0.0.1:8000/static/b.png"]
    assert embedded_urls(b"", PAGE) == []
    assert embedded_urls(b"\x00\x01 not html", PAGE) == []


def test_adjacent_ranges_are_copied_as_one_and_overlapping_ones_refused() -> None:
    assert list(coalesce(iter([(0, 10), (10, 25), (40, 50), (50, 60), (90, 91)]))) == [(0, 25), (40, 60), (90, 91)]
    assert list(coalesce(iter([]))) == []
    with pytest.raises(ValueError, match="overlap at offset 5"):
        list(coalesce(iter([(0, 10), (5, 20)])))


def test_chunk_reader_hands_out_exactly_the_bytes_asked_for_and_drains_the_rest() -> None:
    chunks = iter([b"abc", b"defgh", b"", b"ij", b"klm"])
    reader = ChunkReader(chunks)
    assert (reader.read(2), reader.read(4), reader.tell()) == (b"ab", b"cdef", 6)
    assert reader.read(3) == b"ghi"
    seen: list[bytes] = []
    reader.drain(seen.append)
    assert seen == [b"klm"]  # what cdxj-indexer never asked for still goes through (into the package entry)
    assert reader.read() == b"j" and reader.read(5) == b""


def test_server_not_modified_revisits_are_told_apart() -> None:
    line = 'key 20261123 {"url": "u", "mime": "warc/revisit", "status": "304", "length": "9"}\n'
    assert not_modified(line)
    assert not not_modified(line.replace('"304"', '"200"'))
    assert not not_modified(line.replace("warc/revisit", "text/html"))


def test_a_slice_spec_checks_its_dates() -> None:
    assert SliceSpec().whole and not SliceSpec(run=3).whole
    assert SliceSpec("2024-01-01", "2024-03-31").describe() == "articles published 2024-01-01 to 2024-03-31"
    assert SliceSpec(run=4).describe() == "run 4"
    with pytest.raises(WaczProblem, match="'2024-13-01' is not a date"):
        SliceSpec(since="2024-13-01")
    with pytest.raises(WaczProblem, match="is after --until"):
        SliceSpec(since="2024-05-01", until="2024-04-30")


def test_an_output_that_cannot_or_must_not_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "there.wacz").write_bytes(b"keep")
    cases = {
        tmp_path: "is a directory",
        tmp_path / "x.zip": "must end in .wacz",
        tmp_path / "nowhere" / "x.wacz": "does not exist",
        tmp_path / "there.wacz": "exists: pass --force",
    }
    for output, says in cases.items():
        with pytest.raises(WaczProblem, match=says):
            check_output(output, force=False)
    check_output(tmp_path / "there.wacz", force=True)


def test_a_failed_build_leaves_nothing_and_a_finished_one_lists_every_entry(tmp_path: Path) -> None:
    output = tmp_path / "a.wacz"
    with pytest.raises(RuntimeError), PackageWriter(output) as package:
        with package.entry("archive/a.warc.gz", stored=True) as sink:
            sink.write(b"x" * 1000)
        raise RuntimeError("a damaged record")
    assert list(tmp_path.iterdir()) == []  # neither the output nor the temporary file beside it
    with PackageWriter(output) as package:
        with package.entry("archive/a.warc.gz", stored=True) as sink:
            sink.write(b"warc bytes")
        assert package.add_lines("pages/pages.jsonl", iter(["{}\n", "{}\n"])) == 2
        package.finish({"profile": "data-package", "wacz_version": "1.1.1"})
    assert [p.name for p in tmp_path.iterdir()] == ["a.wacz"]
    with zipfile.ZipFile(output) as made:
        manifest = json.loads(made.read("datapackage.json"))
        assert [(r["path"], r["bytes"]) for r in manifest["resources"]] == [
            ("archive/a.warc.gz", 10),
            ("pages/pages.jsonl", 6),
        ]
        assert manifest["resources"][0]["hash"] == "sha256:" + hashlib.sha256(b"warc bytes").hexdigest()
        assert made.getinfo("archive/a.warc.gz").compress_type == zipfile.ZIP_STORED
        digest = json.loads(made.read("datapackage-digest.json"))
        assert digest == {
            "path": "datapackage.json",
            "hash": "sha256:" + hashlib.sha256(made.read("datapackage.json")).hexdigest(),
        }


def test_a_file_that_appears_meanwhile_is_kept_without_force(tmp_path: Path) -> None:
    output = tmp_path / "a.wacz"
    with pytest.raises(WaczProblem, match="appeared while packaging"), PackageWriter(output) as package:
        output.write_bytes(b"someone else's")
        package.finish({})
    assert output.read_bytes() == b"someone else's" and [p.name for p in tmp_path.iterdir()] == ["a.wacz"]


@pytest.fixture
def py_wacz_package(tmp_path: Path) -> Path:
    """A package made by py-wacz itself from the good sample WARC file (ZipNum index, one page)."""
    warc = tmp_path / "good.warc.gz"
    shutil.copy(SAMPLES / "good.warc.gz", warc)
    pages = tmp_path / "pages.jsonl"
    header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    page = {"url": "http://127.0.0.1:8000/en/news/t6294.html?x=1", "ts": "2026-11-23T12:00:00Z", "title": "t6294"}
    pages.write_text(json.dumps(header) + "\n" + json.dumps(page) + "\n")
    output = tmp_path / "good.wacz"
    made = subprocess.run([PY_WACZ, "create", "-o", output, "-p", pages, warc], capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    pages.unlink()
    return output


def py_wacz_valid(package: Path) -> bool:
    checked = subprocess.run([PY_WACZ, "validate", "-f", package], capture_output=True, text=True)
    assert checked.returncode in (0, 1) and "Traceback" not in checked.stderr, checked.stderr
    return checked.returncode == 0


@pytest.mark.slow  # py-wacz runs in a subprocess
def test_verify_accepts_what_py_wacz_makes(py_wacz_package: Path) -> None:
    check = verify_wacz(py_wacz_package)
    assert check.ok, check.problems
    assert py_wacz_valid(py_wacz_package)
    assert (check.index_lines, check.pages, check.resources) == (3, 1, 4)


def rewritten(package: Path, changes: dict[str, bytes]) -> None:
    """The package with some entries' bytes replaced (a ZIP whose own CRCs are right: only the manifest can tell)."""
    source = zipfile.ZipFile(package)
    entries = [(info, changes.get(info.filename, source.read(info.filename))) for info in source.infolist()]
    source.close()
    with zipfile.ZipFile(package, "w") as out:
        for info, data in entries:
            out.writestr(info, data)


@pytest.mark.slow  # py-wacz runs in a subprocess
def test_verify_names_a_changed_entry_a_stale_digest_and_an_unlisted_file(py_wacz_package: Path) -> None:
    with zipfile.ZipFile(py_wacz_package) as package:
        warc = next(n for n in package.namelist() if n.startswith("archive/"))
        manifest = json.loads(package.read("datapackage.json"))
    manifest["title"] = "changed after signing"
    rewritten(py_wacz_package, {"datapackage.json": json.dumps(manifest).encode()})
    assert [p.split(": ", 1)[1] for p in verify_wacz(py_wacz_package).problems] == [
        "datapackage-digest.json does not hold datapackage.json's hash"
        f" (sha256:{hashlib.sha256(json.dumps(manifest).encode()).hexdigest()})"
    ]
    assert not py_wacz_valid(py_wacz_package)  # py-wacz's `wacz validate` agrees, at each step
    with zipfile.ZipFile(py_wacz_package, "a") as package:
        package.writestr("pages/notes.jsonl", b"{}\n")
    problems = verify_wacz(py_wacz_package).problems
    assert any("pages/notes.jsonl is not listed in datapackage.json" in p for p in problems)
    assert not py_wacz_valid(py_wacz_package)
    with zipfile.ZipFile(py_wacz_package) as package:
        data = bytearray(package.read(warc))
    data[len(data) // 2] ^= 0xFF
    rewritten(py_wacz_package, {warc: bytes(data)})
    problems = verify_wacz(py_wacz_package).problems
    assert any(f"{warc}: hash sha256:" in p for p in problems), problems
    assert not py_wacz_valid(py_wacz_package)


@pytest.mark.slow  # py-wacz runs in a subprocess
def test_verify_names_an_index_line_that_points_past_its_record(tmp_path: Path, py_wacz_package: Path) -> None:
    with zipfile.ZipFile(py_wacz_package) as package:
        lines = list(index_lines(package))
    key, stamp, text = lines[-1].split(" ", 2)
    fields = json.loads(text)
    fields["offset"] = str(int(fields["offset"]) + 1)
    plain = tmp_path / "plain.wacz"
    with zipfile.ZipFile(py_wacz_package) as source, zipfile.ZipFile(plain, "w") as out:
        for info in source.infolist():
            if info.filename.startswith("indexes/"):
                continue
            out.writestr(info, source.read(info.filename))
        out.writestr("indexes/index.cdx", "".join(lines[:-1]) + f"{key} {stamp} {json.dumps(fields)}\n")
    problems = verify_wacz(plain).problems
    assert any(
        f"-> good.warc.gz offset {fields['offset']}: the " in p and "not one whole gzip member" in p for p in problems
    ), problems


def test_verify_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "x.wacz").write_bytes(b"not a zip at all")
    with pytest.raises(WaczProblem, match="is not a WACZ file"):
        verify_wacz(tmp_path / "x.wacz")
    with pytest.raises(WaczProblem, match="no such file"):
        verify_wacz(tmp_path / "missing.wacz")


@pytest.mark.slow  # py-wacz runs in a subprocess
def test_in_place_lines_point_into_the_wacz_file_itself(py_wacz_package: Path, tmp_path: Path) -> None:
    lines = list(in_place_lines(py_wacz_package))
    assert lines and all(json.loads(line.split(" ", 2)[2])["filename"] == "good.wacz" for line in lines)
    with open(py_wacz_package, "rb") as raw, zipfile.ZipFile(py_wacz_package) as package:
        info = next(i for i in package.infolist() if i.filename.startswith("archive/"))
        start = data_start(raw, info)
        for line in lines:
            fields = json.loads(line.split(" ", 2)[2])
            raw.seek(int(fields["offset"]))
            record = gzip.GzipFile(fileobj=io.BytesIO(raw.read(int(fields["length"])))).read()
            assert record.startswith(b"WARC/1.") and fields["url"].encode() in record
            assert int(fields["offset"]) >= start
    index = tmp_path / "index.cdxj"
    assert write_replay_index([py_wacz_package], index) == [py_wacz_package.parent.resolve()]
    assert index.read_text().splitlines(keepends=True) == sorted(lines)
    twin = tmp_path / "twin"
    twin.mkdir()
    shutil.copy(py_wacz_package, twin / py_wacz_package.name)
    with pytest.raises(WaczProblem, match=r"two WACZ files named good\.wacz"):
        write_replay_index([py_wacz_package, twin / py_wacz_package.name], index)
