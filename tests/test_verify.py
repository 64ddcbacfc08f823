"""`verify` and `verify --repair` on small archives built here, each broken one way."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal_crawler.catalogue import Catalogue, CatalogueError
from portal_crawler.core.lock import ArchiveLock, LockHeld
from portal_crawler.upkeep.verify import Problem, VerifyReport, verify_archive
from portal_crawler.warc.reader import read_record
from portal_crawler.warc.records import Exchange, RecordPointer
from portal_crawler.warc.writer import WarcWriter

T0 = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
SAMPLES = Path(__file__).parent / "data" / "warc"


def page_url(article: str) -> str:
    return f"http://127.0.0.1:8000/en/news/{article}.html"


def exchange(article: str, body: bytes, at: datetime = T0) -> Exchange:
    return Exchange(
        url=page_url(article),
        method="GET",
        request_headers=[("Host", "127.0.0.1:8000")],
        request_body=b"",
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"{article}"')],
        body=body,
        fetched_at=at,
        ip_address="127.0.0.1",
    )


@dataclass
class Archive:
    """An archive directory being built: a writer, a catalogue, the pointers written."""

    root: Path
    max_size: int = 10**9
    pointers: dict[str, RecordPointer] = field(default_factory=dict)  # last capture of each article

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = itertools.count(1)
        self.writer = WarcWriter(
            self.root / "warc",
            host="test",
            max_size=self.max_size,
            clock=lambda: T0,
            make_record_id=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(numbers):012d}>",
            warcinfo={"run-id": "1"},
        )
        self.catalogue = Catalogue(self.root / "catalogue.db")
        self.run_id = self.catalogue.start_run("full", "mps", "test", 1)

    def fetch(self, article: str, body: bytes, *, catalogue: bool = True, minutes: int = 0) -> RecordPointer:
        """Archive one exchange; catalogue its capture and the article unless told not to."""
        at = T0 + timedelta(minutes=minutes)
        pointer = self.writer.write_exchange(
            exchange(article, body, at), self.catalogue.prior_capture(page_url(article))
        )
        if catalogue:
            capture_id = self.catalogue.add_capture(
                self.run_id,
                pointer,
                url=page_url(article),
                status=200,
                content_type="text/html",
                fetched_at=at.isoformat(),
            )
            self.catalogue.upsert_article(
                {"id": article, "url": page_url(article), "title": body.decode()}, capture_id, at.isoformat()
            )
            self.pointers[article] = pointer
        self.writer.sync()
        self.catalogue.commit()
        return pointer

    def close(self) -> Path:
        self.writer.close()
        self.catalogue.close()
        return self.root

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(self.root / "catalogue.db")
        try:
            with conn:
                return conn.execute(statement, params).fetchall()
        finally:
            conn.close()


def body(n: int) -> bytes:
    return f"<html><body><p>Article {n}: {'news ' * 20}</p></body></html>".encode()


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    """Four articles, one fetched twice unchanged (a revisit), one file."""
    built = Archive(tmp_path / "archive")
    for n in range(1, 5):
        built.fetch(f"t{n}", body(n), minutes=n)
    built.fetch("t1", body(1), minutes=10)
    return built


def kinds(report: VerifyReport) -> list[str]:
    return sorted(p.kind for p in report.problems)


def assert_every_article_reads_back(root: Path) -> None:
    catalogue = Catalogue(root / "catalogue.db", create=False)
    try:
        rows = catalogue.conn.execute("SELECT a.id, c.id FROM articles a JOIN captures c ON c.id = a.capture_id")
        for article, capture_id in rows.fetchall():
            pointer = catalogue.capture(capture_id)
            assert pointer is not None
            record = read_record(root / "warc" / pointer.warc_filename, pointer.warc_offset)
            assert (record.record_id, record.url) == (pointer.warc_record_id, page_url(article))
    finally:
        catalogue.close()


def test_good_archive_over_two_files_is_ok(tmp_path):
    built = Archive(tmp_path / "archive", max_size=1500)
    for n in range(1, 6):
        built.fetch(f"t{n}", body(n), minutes=n)
    built.fetch("t2", body(2), minutes=9)  # a revisit: only its block digest is checked
    files = list(built.writer.filenames)
    report = verify_archive(built.close())
    assert report.ok, [p.line() for p in report.problems]
    assert len(files) >= 2 and report.files == len(files)
    assert report.captures_checked == 6
    assert report.records_scanned == len(files) + 2 * 6  # warcinfo + response/revisit + request
    assert report.repaired == []


def test_problem_line_leaves_out_what_is_unknown():
    assert Problem("digest", "a.warc.gz", 361, "<urn:x>", "bad").line() == "a.warc.gz: offset 361: <urn:x>: bad"
    assert Problem("missing-file", "a.warc.gz", 0, None, "gone").line() == "a.warc.gz: offset 0: gone"
    assert Problem("dangling-article", None, None, None, "article t1").line() == "article t1"


def flip_a_byte_of(archive, target) -> tuple[Path, Path, bytes]:
    """Close the archive and flip one byte in the middle of the target's record: (root, file, its new bytes)."""
    root = archive.close()
    path = root / "warc" / target.filename
    data = bytearray(path.read_bytes())
    data[target.offset + target.length // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return root, path, bytes(data)


def test_flipped_byte_is_reported_and_never_cut(archive):
    target = archive.pointers["t2"]
    root, path, data = flip_a_byte_of(archive, target)
    report = verify_archive(root)
    [damage] = [p for p in report.problems if p.offset == target.offset]
    assert damage.kind == "unreadable" and damage.file == str(path) and damage.record_id == target.record_id
    assert "not a readable gzip member" in damage.line()
    assert not report.ok
    repaired = verify_archive(root, repair=True)
    assert path.read_bytes() == data and not (root / "quarantine").exists()
    assert not repaired.ok and "unreadable" in kinds(repaired)
    assert archive.sql("SELECT count(*) FROM captures") == [(5,)]  # rows of a damaged file are kept


def test_later_records_of_a_damaged_file_still_resolve(archive):
    first = archive.pointers["t2"]
    root, _, _ = flip_a_byte_of(archive, first)
    report = verify_archive(root)
    assert [p.offset for p in report.problems] == [first.offset]  # t3, t4 and the revisit read back


def test_torn_tail_is_cut_into_quarantine_and_catalogue_reconciled(archive):
    torn = archive.fetch("t9", body(9), minutes=20)  # a new article whose record the crash tears
    root = archive.close()
    path = root / "warc" / torn.filename
    whole = path.read_bytes()
    cut = torn.offset + torn.length // 2
    path.write_bytes(whole[:cut])
    report = verify_archive(root)
    tail = next(p for p in report.problems if p.kind == "torn-tail")
    assert (tail.file, tail.offset, tail.record_id) == (str(path), torn.offset, torn.record_id)
    assert f"{cut - torn.offset} bytes" in tail.message

    repaired = verify_archive(root, repair=True)
    assert repaired.ok, [p.line() for p in repaired.problems]
    assert verify_archive(root).ok
    assert path.stat().st_size == torn.offset
    assert (root / "quarantine" / f"{torn.filename}.{torn.offset}.tail").read_bytes() == whole[torn.offset : cut]
    assert any("deleted article t9" in line for line in repaired.repaired)
    assert archive.sql("SELECT id FROM articles ORDER BY id") == [("t1",), ("t2",), ("t3",), ("t4",)]
    assert_every_article_reads_back(root)


def test_torn_new_version_falls_back_to_the_previous_capture(archive):
    previous = archive.pointers["t3"]
    torn = archive.fetch("t3", body(33), minutes=20)  # changed content: version 2 of t3
    root = archive.close()
    path = root / "warc" / torn.filename
    path.write_bytes(path.read_bytes()[: torn.offset + 30])
    repaired = verify_archive(root, repair=True)
    assert repaired.ok, [p.line() for p in repaired.problems]
    [(capture_id,)] = archive.sql("SELECT capture_id FROM articles WHERE id = 't3'")
    assert archive.sql("SELECT warc_record_id FROM captures WHERE id = ?", (capture_id,)) == [(previous.record_id,)]
    assert archive.sql("SELECT version, capture_id FROM versions WHERE article_id = 't3' ORDER BY version") == [
        (1, capture_id),
        (2, None),
    ]
    assert_every_article_reads_back(root)


def test_row_pointing_at_the_wrong_offset_is_named_precisely(archive):
    t3, t4 = archive.pointers["t3"], archive.pointers["t4"]
    root = archive.close()
    archive.sql("UPDATE captures SET warc_offset = ? WHERE warc_record_id = ?", (t3.request_offset, t3.record_id))
    archive.sql("UPDATE captures SET warc_offset = ? WHERE warc_record_id = ?", (t4.offset + 7, t4.record_id))
    report = verify_archive(root)
    wrong = {p.record_id: p for p in report.problems}
    assert kinds(report) == ["unreadable", "wrong-record"]
    assert wrong[t3.record_id].offset == t3.request_offset
    assert "record type is 'request', the catalogue says 'response'" in wrong[t3.record_id].message
    assert wrong[t4.record_id].offset == t4.offset + 7
    assert "not a readable gzip member" in wrong[t4.record_id].message
    repaired = verify_archive(root, repair=True)  # both records are still in the file: re-pointed
    assert repaired.ok and len(repaired.repaired) == 2
    assert_every_article_reads_back(root)


def test_missing_file_is_reported_per_capture_and_kept(tmp_path):
    built = Archive(tmp_path / "archive", max_size=1500)
    for n in range(1, 5):
        built.fetch(f"t{n}", body(n), minutes=n)
    gone = built.pointers["t1"].filename
    root = built.close()
    (root / "warc" / gone).unlink()
    lost = [p for p in built.pointers.values() if p.filename == gone]
    report = verify_archive(root)
    assert kinds(report) == ["missing-file"] * len(lost)
    assert {(p.file, p.offset, p.record_id) for p in report.problems} == {
        (str(root / "warc" / gone), p.offset, p.record_id) for p in lost
    }
    assert kinds(verify_archive(root, repair=True)) == ["missing-file"] * len(lost)
    assert built.sql("SELECT count(*) FROM captures") == [(4,)]


def test_orphan_record_is_reported_then_catalogued(archive):
    orphan = archive.fetch("t7", body(7), catalogue=False, minutes=30)
    root = archive.close()
    report = verify_archive(root)
    [problem] = report.problems
    assert (problem.kind, problem.offset, problem.record_id) == ("orphan", orphan.offset, orphan.record_id)
    repaired = verify_archive(root, repair=True)
    assert repaired.ok and len(repaired.repaired) == 1 and repaired.captures_checked == 6
    row = archive.sql(
        "SELECT url, status, content_type, etag, record_type, warc_offset, warc_length, run_id,"
        " article_id, payload_digest FROM captures WHERE warc_record_id = ?",
        (orphan.record_id,),
    )
    assert row == [
        (
            page_url("t7"),
            200,
            "text/html; charset=utf-8",
            '"t7"',
            "response",
            orphan.offset,
            orphan.length,
            1,
            None,
            orphan.payload_digest,
        )
    ]


def test_dangling_article_is_relinked_to_its_latest_capture(archive):
    root = archive.close()
    archive.sql("UPDATE articles SET capture_id = 999 WHERE id = 't2'")
    report = verify_archive(root)
    assert kinds(report) == ["dangling-article"] and "article t2: capture_id 999" in report.problems[0].line()
    assert verify_archive(root, repair=True).ok
    assert_every_article_reads_back(root)


@pytest.mark.parametrize(
    "sample, expected",
    [
        ("good", []),
        ("digest-mismatch", ["digest", "digest"]),
        ("flipped-byte", ["unreadable"]),
        ("torn-tail", ["torn-tail"]),
    ],
)
def test_sample_files(tmp_path, sample, expected):
    root = tmp_path / "archive"
    (root / "warc").mkdir(parents=True)
    Catalogue(root / "catalogue.db").close()
    shutil.copy(SAMPLES / f"{sample}.warc.gz", root / "warc" / f"{sample}.warc.gz")
    problems = [p for p in verify_archive(root).problems if p.kind != "orphan"]  # nothing is catalogued
    assert sorted(p.kind for p in problems) == expected
    assert all(p.file == str(root / "warc" / f"{sample}.warc.gz") and p.offset is not None for p in problems)


def test_no_catalogue_and_a_held_lock_are_refused(archive, tmp_path):
    with pytest.raises(CatalogueError):
        verify_archive(tmp_path / "nowhere")
    root = archive.close()
    with ArchiveLock(root), pytest.raises(LockHeld):
        verify_archive(root)
