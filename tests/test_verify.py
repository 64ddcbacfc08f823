"""`verify` and `verify --repair` on small archives built here, each broken one way."""

from __future__ import annotations

import gzip
import itertools
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import query, run_cli

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
    torn = archive.fetch("t9", body(9), catalogue=False, minutes=20)  # the crash tore it before its rows committed
    root = archive.close()
    path = root / "warc" / torn.filename
    whole = path.read_bytes()
    cut = torn.offset + torn.length // 2
    path.write_bytes(whole[:cut])
    report = verify_archive(root)
    [tail] = report.problems
    assert (tail.kind, tail.file, tail.offset, tail.record_id) == ("torn-tail", str(path), torn.offset, None)
    assert f"{cut - torn.offset} bytes" in tail.message

    repaired = verify_archive(root, repair=True)
    assert repaired.ok, [p.line() for p in repaired.problems]
    assert verify_archive(root).ok
    assert path.stat().st_size == torn.offset
    assert (root / "quarantine" / f"{torn.filename}.{torn.offset}.tail").read_bytes() == whole[torn.offset : cut]
    assert archive.sql("SELECT id FROM articles ORDER BY id") == [("t1",), ("t2",), ("t3",), ("t4",)]
    assert archive.sql("SELECT count(*) FROM captures") == [(5,)]
    assert_every_article_reads_back(root)


def test_torn_tail_padded_with_nuls_is_cut_like_a_torn_tail(archive):
    torn = archive.fetch("t9", body(9), catalogue=False, minutes=20)
    root = archive.close()
    path = root / "warc" / torn.filename
    whole = path.read_bytes()
    tail_bytes = whole[torn.offset : torn.offset + torn.length // 2] + b"\0" * 4096  # a power loss's shape
    path.write_bytes(whole[: torn.offset] + tail_bytes)
    [tail] = verify_archive(root).problems
    assert (tail.kind, tail.offset) == ("torn-tail", torn.offset)
    repaired = verify_archive(root, repair=True)
    assert repaired.ok, [p.line() for p in repaired.problems]
    assert path.read_bytes() == whole[: torn.offset]
    assert (root / "quarantine" / f"{torn.filename}.{torn.offset}.tail").read_bytes() == tail_bytes
    assert verify_archive(root).ok


def test_nuls_after_a_broken_whole_member_are_still_damage(archive):
    """A complete gzip member that is not a record, then NULs: not a tear, so nothing is cut."""
    root = archive.close()
    path = next((root / "warc").glob("*.warc.gz"))
    data = path.read_bytes() + gzip.compress(b"not a WARC record") + b"\0" * 100
    path.write_bytes(data)
    repaired = verify_archive(root, repair=True)
    assert "unreadable" in kinds(repaired) and "repair-refused" in kinds(repaired)
    assert path.read_bytes() == data


def test_a_catalogued_record_torn_is_damage_and_refused(archive):
    """Rows are committed only after their record is fsynced: a crash cannot tear a catalogued record."""
    torn = archive.fetch("t3", body(33), minutes=20)  # version 2 of t3, catalogued, then the file is cut into it
    root = archive.close()
    path = root / "warc" / torn.filename
    data = path.read_bytes()[: torn.offset + 30]
    path.write_bytes(data)
    before = archive.sql("SELECT * FROM captures ORDER BY id"), archive.sql("SELECT * FROM versions ORDER BY 1, 2")
    report = verify_archive(root)
    assert "truncated" in kinds(report) and "torn-tail" not in kinds(report)
    repaired = verify_archive(root, repair=True)
    [refusal] = [p for p in repaired.problems if p.kind == "repair-refused"]
    assert (refusal.file, refusal.offset, refusal.record_id) == (str(path), torn.offset, torn.record_id)
    assert "1 catalogued records" in refusal.message and "restore it from a backup" in refusal.message
    assert not repaired.ok and repaired.repaired == []
    assert path.read_bytes() == data and not (root / "quarantine").exists()
    assert (
        archive.sql("SELECT * FROM captures ORDER BY id"),
        archive.sql("SELECT * FROM versions ORDER BY 1, 2"),
    ) == before


def test_a_file_cut_in_half_is_refused_and_every_row_kept(tmp_path):
    built = Archive(tmp_path / "archive")
    for n in range(1, 21):
        built.fetch(f"t{n}", body(n), minutes=n)
    root = built.close()
    [path] = (root / "warc").glob("*.warc.gz")
    os.truncate(path, path.stat().st_size // 2)
    data = path.read_bytes()
    counts = "SELECT (SELECT count(*) FROM captures), (SELECT count(*) FROM articles), (SELECT count(*) FROM versions)"
    before = built.sql(counts)
    lost = [p for p in built.pointers.values() if p.offset + p.length > len(data)]
    repaired = verify_archive(root, repair=True)
    assert built.sql(counts) == before == [(20, 20, 20)]
    assert path.read_bytes() == data and not (root / "quarantine").exists()
    [refusal] = [p for p in repaired.problems if p.kind == "repair-refused"]
    assert f"{len(lost)} catalogued records" in refusal.message and refusal.record_id == lost[0].record_id
    unreadable = {p.record_id for p in repaired.problems if p.kind == "unreadable"}
    assert unreadable == {p.record_id for p in lost}  # every lost record named, with its offset
    assert not verify_archive(root).ok


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
    repaired = verify_archive(root, repair=True)
    assert kinds(repaired) == ["missing-file"] * len(lost) + ["repair-refused"]
    [refusal] = [p for p in repaired.problems if p.kind == "repair-refused"]
    assert refusal.file == str(root / "warc" / gone) and f"{len(lost)} captures point into it" in refusal.message
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


@pytest.mark.slow
def test_verify_repair_on_a_crawled_file_cut_in_half_keeps_every_row(tmp_path, replica_factory):
    """The reproduction of the hardening report: `truncate -s` half a WARC file, then `verify --repair`."""
    replica = replica_factory(articles=40)
    archive = tmp_path / "archive"
    crawled = run_cli("crawl", "--full", "--archive", str(archive), "--start-url", replica.listing_url)
    assert crawled.returncode == 0, crawled.stderr
    db = archive / "catalogue.db"
    counts = "SELECT (SELECT count(*) FROM captures), (SELECT count(*) FROM articles), (SELECT count(*) FROM versions)"
    before = query(db, counts)
    [path] = (archive / "warc").glob("*.warc.gz")
    half = path.stat().st_size // 2
    os.truncate(path, half)
    lost = query(db, "SELECT count(*) FROM captures WHERE warc_offset + warc_length > ?", (half,))[0][0]

    repaired = run_cli("verify", "--repair", "--archive", str(archive))
    assert repaired.returncode == 1
    refusals = [line for line in repaired.stderr.splitlines() if line.startswith("repair-refused: ")]
    assert len(refusals) == 1 and str(path) in refusals[0] and f"{lost} catalogued records" in refusals[0]
    assert "repaired:" not in repaired.stdout and not (archive / "quarantine").exists()
    assert query(db, counts) == before and path.stat().st_size == half
    again = run_cli("verify", "--archive", str(archive))
    assert again.returncode == 1 and not again.stdout.rstrip().endswith(": ok")
    after = query(db, counts)
    print(f"\nhalf-truncated: {lost} of {before[0][0]} captures past the cut; rows before {before}, after {after}")
