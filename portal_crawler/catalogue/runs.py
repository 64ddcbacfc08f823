"""Run bookkeeping: the `runs` rows a crawl opens and closes, and those reindex rebuilds.

A run's new and updated article counts are taken from what it catalogued
(its captures' versions), not from the caller's counters, so a run whose
writer died still reports what it kept. A run found still `running` when the
next one starts (which happens only under the archive lock) was killed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from portal_crawler.catalogue import schema
from portal_crawler.catalogue.connection import guarded
from portal_crawler.catalogue.queries import CatalogueReads, dicts
from portal_crawler.core.times import iso_seconds

KILLED = "did not finish: the run was killed"
_RUN_FIGURES = ("requests", "responses", "articles_unchanged", "errors", "warc_bytes")


class RunWrites(CatalogueReads):
    """The writes to `runs` (part of Catalogue)."""

    busy_seconds: float

    @guarded
    def start_run(self, mode: str, profile: str, software_version: str, pid: int) -> int:
        """A new `running` run; any run still `running` is stale (the caller holds the archive lock): failed."""
        for (stale,) in self.conn.execute("SELECT id FROM runs WHERE status = 'running'").fetchall():
            self._close_run(stale, "failed", {}, KILLED)
        cur = self.conn.execute(
            "INSERT INTO runs (started, status, mode, profile, software_version, pid)"
            " VALUES (?, 'running', ?, ?, ?, ?)",
            (iso_seconds(), mode, Path(profile).name, software_version, pid),
        )
        self.conn.commit()
        return int(cur.lastrowid or 0)

    @guarded
    def record_run_quality(self, run_id: int, quality: dict[str, Any], alarms: list[str]) -> None:
        """The run's extraction quality and drift alarms (JSON), kept with the run."""
        self.conn.execute(
            "UPDATE runs SET quality = ?, alarms = ? WHERE id = ?",
            (json.dumps(quality, sort_keys=True), json.dumps(alarms, ensure_ascii=False) if alarms else None, run_id),
        )

    @guarded
    def set_walk_complete(self, run_id: int, complete: bool) -> None:
        self.conn.execute("UPDATE runs SET walk_complete = ? WHERE id = ?", (int(complete), run_id))

    @guarded
    def finish_run(self, run_id: int, status: str, counts: dict[str, int], error_summary: str | None = None) -> None:
        """Close the run with its figures; new and updated articles are counted from what it catalogued."""
        self._close_run(run_id, status, counts, error_summary)
        self.conn.commit()

    def _close_run(self, run_id: int, status: str, counts: dict[str, int], error_summary: str | None) -> None:
        new, updated = self.run_articles(run_id)
        figures = {c: counts[c] for c in _RUN_FIGURES if c in counts}
        figures.update(articles_new=new, articles_updated=updated)
        assignments = ", ".join(f"{c} = ?" for c in figures)
        self.conn.execute(
            f"UPDATE runs SET finished = ?, status = ?, error_summary = ?, {assignments} WHERE id = ?",
            (iso_seconds(), status, error_summary, *figures.values(), run_id),
        )

    @guarded
    def add_reindexed_run(self, run_id: int, mode: str, profile: str | None, software_version: str) -> None:
        """A run known only from a WARC file's warcinfo (reindex), unless the run is already there."""
        self.conn.execute(
            "INSERT OR IGNORE INTO runs (id, started, status, mode, profile, software_version)"
            " VALUES (?, '', 'reindexed', ?, ?, ?)",
            (run_id, mode, profile, software_version),
        )

    @guarded
    def date_runs_from_captures(self) -> None:
        """A reindexed run's start and end: its first and last capture."""
        self.conn.execute(
            "UPDATE runs SET started = (SELECT MIN(fetched_at) FROM captures WHERE run_id = runs.id),"
            " finished = (SELECT MAX(fetched_at) FROM captures WHERE run_id = runs.id) WHERE status = 'reindexed'"
        )

    @guarded
    def copy_run_history(self, source: Path) -> int:
        """Runs as another catalogue recorded them (reindex keeps the history the WARC files cannot tell)."""
        old = type(self).reader(source)  # type: ignore[attr-defined]
        try:
            rows = dicts(old.conn.execute("SELECT * FROM runs"))
        finally:
            old.close()
        known = schema.columns(self.conn, "runs")
        for row in rows:
            names = [c for c in row if c in known]
            self.conn.execute(
                f"INSERT OR REPLACE INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [row[c] for c in names],
            )
        return len(rows)
