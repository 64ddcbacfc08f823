"""Which captures a package holds, chosen in the catalogue: a temporary table `temp.wacz_slice` of capture IDs.

The slice grows in SQLite (on disk when large), never in a Python set, so a
package of a million captures costs no more memory than one of ten:

0. a temporary index of the catalogue's WARC-Record-IDs (`temp.wacz_records`),
   which the catalogue itself does not index, for finding revisits' originals;
1. the seed: every capture (the whole archive), the captures of the articles
   published in the date range (all their versions and rechecks), or the
   captures of one run;
2. the requisites of every page in it (`add_requisites`, from the pages' HTML);
3. the originals that its revisit records stand for, followed to the end of
   each chain (a revisit of a revisit), wherever they are in the archive.

These reads are the package's own, over the catalogue's read-only connection,
so they live here beside the slice they build rather than in
`catalogue.queries`, which serves the crawl and the desk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from portal_crawler.wacz.layout import EmptySlice, SliceSpec, WaczProblem

MAX_HOPS = 8  # as warc.revisit: a longer chain (or a loop) is not an archive this crawler wrote
_SEEDS = {
    "whole": "SELECT id FROM captures",
    "run": "SELECT id FROM captures WHERE run_id = :run",
    "dates": "SELECT c.id FROM captures c JOIN articles a ON a.id = c.article_id"
    " WHERE (:since IS NULL OR a.published >= :since) AND (:until IS NULL OR a.published <= :until)"
    " AND (:run IS NULL OR c.run_id = :run)",
}
_RECORDS = (  # the catalogue has no index on WARC-Record-ID: a temporary one, built once
    "CREATE TEMP TABLE wacz_records AS SELECT warc_record_id AS record_id, id AS capture_id FROM captures",
    "CREATE INDEX temp.wacz_records_id ON wacz_records (record_id)",
)
_ORIGINALS = (
    "INSERT OR IGNORE INTO temp.wacz_slice (id) SELECT o.capture_id FROM temp.wacz_slice s"
    " JOIN captures r ON r.id = s.id JOIN temp.wacz_records o ON o.record_id = r.refers_to"
    " WHERE r.record_type = 'revisit' AND r.refers_to IS NOT NULL"
)
_NEAREST = "SELECT id FROM captures WHERE url = ? AND status BETWEEN 200 AND 299 ORDER BY abs(id - ?), id LIMIT 1"
HTML_PAGE = "c.status IN (200, 304) AND c.content_type LIKE 'text/html%'"


@dataclass(frozen=True)
class Pointer:
    """One record of the slice, where the archive has it."""

    capture_id: int
    filename: str
    offset: int
    length: int
    record_id: str


class Selection:
    """The slice of one catalogue connection, as a temporary table dropped on close."""

    def __init__(self, conn: sqlite3.Connection, spec: SliceSpec) -> None:
        self.conn, self.spec = conn, spec
        if spec.run is not None and conn.execute("SELECT 1 FROM runs WHERE id = ?", (spec.run,)).fetchone() is None:
            raise WaczProblem(f"--run {spec.run}: there is no such run (portal-crawler stats lists the runs)")
        self.close()
        conn.execute("CREATE TEMP TABLE wacz_slice (id INTEGER PRIMARY KEY)")
        for statement in _RECORDS:
            conn.execute(statement)
        kind = "whole" if spec.whole else ("run" if spec.since is None and spec.until is None else "dates")
        params = {"since": spec.since, "until": spec.until, "run": spec.run}
        conn.execute(f"INSERT INTO temp.wacz_slice (id) {_SEEDS[kind]}", params)
        if self.count() == 0:
            raise EmptySlice(f"nothing to package: {spec.describe()} holds no captures")

    def close(self) -> None:
        for table in ("wacz_slice", "wacz_records"):
            self.conn.execute(f"DROP TABLE IF EXISTS temp.{table}")

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM temp.wacz_slice").fetchone()[0])

    def pages(self, batch: int = 500) -> Iterator[tuple[int, str, str, int]]:
        """(capture id, URL, WARC file, offset) of every HTML page capture in the slice, in capture order.

        Read in batches by ID, so the slice can grow (requisites) while its pages are walked.
        """
        sql = (
            "SELECT c.id, c.url, c.warc_filename, c.warc_offset FROM captures c JOIN temp.wacz_slice s ON s.id = c.id"
            f" WHERE {HTML_PAGE} AND c.id > ? ORDER BY c.id LIMIT ?"
        )
        last = -1
        while rows := self.conn.execute(sql, (last, batch)).fetchall():
            yield from rows
            last = rows[-1][0]

    def add_nearest(self, urls: list[str], capture_id: int) -> None:
        """For each URL, its successful capture nearest to `capture_id` (a page's requisite as the page saw it)."""
        for url in urls:
            row = self.conn.execute(_NEAREST, (url, capture_id)).fetchone()
            if row is not None:
                self.conn.execute("INSERT OR IGNORE INTO temp.wacz_slice (id) VALUES (?)", row)

    def add_originals(self) -> None:
        """The records the slice's revisits stand for, hop by hop, until no chain has a record left out."""
        for _ in range(MAX_HOPS):
            if self.conn.execute(_ORIGINALS).rowcount == 0:
                return

    def record(self, record_id: str) -> tuple[str, int] | None:
        """(file, offset) of a catalogued record by WARC-Record-ID: a page revisit's original, for its HTML."""
        row = self.conn.execute(
            "SELECT c.warc_filename, c.warc_offset FROM temp.wacz_records r JOIN captures c ON c.id = r.capture_id"
            " WHERE r.record_id = ?",
            (record_id,),
        ).fetchone()
        return (row[0], int(row[1])) if row else None

    def files(self) -> list[str]:
        """The WARC files the slice has records in, by name."""
        sql = "SELECT DISTINCT c.warc_filename FROM captures c JOIN temp.wacz_slice s ON s.id = c.id ORDER BY 1"
        return [row[0] for row in self.conn.execute(sql)]

    def pointers(self, filename: str) -> Iterator[Pointer]:
        """The slice's records in one file, in file order (a cursor: nothing is gathered in memory)."""
        sql = (
            "SELECT c.id, c.warc_filename, c.warc_offset, c.warc_length, c.warc_record_id FROM captures c"
            " JOIN temp.wacz_slice s ON s.id = c.id WHERE c.warc_filename = ? ORDER BY c.warc_offset"
        )
        for row in self.conn.execute(sql, (filename,)):
            yield Pointer(int(row[0]), row[1], int(row[2]), int(row[3]), row[4])
