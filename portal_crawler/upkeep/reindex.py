"""Rebuild the catalogue from the WARC files alone.

Records are replayed in file and record order (file names sort by time)
through the crawl's own capture-to-article path (`catalogue.ingest`), so a
fixed profile re-extracts old captures and article versions come out in
capture order (`rebuilding`). The new catalogue is built beside the old one
as a scratch file and swapped in only when complete; the old one is kept as
`catalogue.db.bak`, and its run history is carried over. Damage (a torn tail,
a corrupt record, garbage) is read past and reported, and the scratch file is
removed whatever happens, Ctrl-C included.
"""

from __future__ import annotations

from pathlib import Path

from portal_crawler.catalogue import Catalogue
from portal_crawler.catalogue.rebuild import (
    claim_for_swap,
    copy_runs,
    finish_scratch,
    open_scratch,
    remove_scratch,
    scratch_path,
    swap_in,
)
from portal_crawler.core.collector import tuned_collector
from portal_crawler.core.errors import Failure, UsageProblem
from portal_crawler.extraction.profile import Profile, load_profile
from portal_crawler.upkeep.page_pool import PagePool
from portal_crawler.upkeep.rebuilding import Damage, Rebuild, ReindexReport

__all__ = ["Damage", "ReindexError", "ReindexReport", "reindex", "warc_files"]


class ReindexError(UsageProblem):
    """The WARC directory cannot be reindexed; the message says why."""


class NothingReadable(Failure):
    """No record of any WARC file could be read: the old catalogue is left as it was."""


def warc_files(warc_dir: Path) -> list[Path]:
    if not Path(warc_dir).is_dir():
        raise ReindexError(f"no WARC directory at {warc_dir}")
    return sorted(Path(warc_dir).glob("*.warc.gz"))


def reindex(warc_dir: Path, catalogue_path: Path, profile: str = "mps", workers: int | None = None) -> ReindexReport:
    """Rebuild `catalogue_path` from every WARC file in `warc_dir`; damage is in the report (exit_code 1).

    Raises ArchiveBusy when another SQLite connection writes the old catalogue
    (before any work, and again before the swap), NothingReadable when not one
    record could be read; the old catalogue is then left untouched.
    """
    files = warc_files(warc_dir)
    loaded = load_profile(profile)
    catalogue_path = Path(catalogue_path)
    claim_for_swap(catalogue_path)
    scratch = scratch_path(catalogue_path)
    try:
        with tuned_collector():  # freezing before the page workers fork also keeps their pages shared
            report = _build(scratch, files, loaded, catalogue_path, workers)
        if files and report.captures == 0 and report.damage:
            raise NothingReadable(
                f"no record could be read from the {len(files)} WARC files ({report.damage[0].line()}):"
                f" {catalogue_path} was left as it was"
            )
        claim_for_swap(catalogue_path)
        swap_in(scratch, catalogue_path)
    finally:
        remove_scratch(scratch)  # nothing left to remove after a swap; everything after a failure
    return report


def _build(scratch: Path, files: list[Path], profile: Profile, old: Path, workers: int | None) -> ReindexReport:
    """The scratch catalogue filled from `files`, closed and durable."""
    report = ReindexReport()
    catalogue = open_scratch(scratch)
    try:
        _fill(catalogue, files, PagePool(profile, workers), report, copy_runs(catalogue, old))
    except BaseException:
        catalogue.conn.close()
        raise
    finish_scratch(catalogue)
    return report


def _fill(catalogue: Catalogue, files: list[Path], pool: PagePool, report: ReindexReport, runs: set[int]) -> None:
    with pool as pages:
        rebuild = Rebuild(catalogue, pages.profile, pages, report, runs)
        for path in files:
            rebuild.add_file(path)
            catalogue.commit()
