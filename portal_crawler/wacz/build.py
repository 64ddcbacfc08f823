"""`write_wacz`: a WACZ 1.1.1 package of the archive, or of a slice of it, streamed to disk as it is built.

In order: the slice (selection, requisites, revisits' originals), each WARC
file of the package into `archive/` while cdxj-indexer indexes it, the merged
index, the page lists, `datapackage.json` and its digest; then the rename that
publishes the file. Memory stays flat: the slice is a temporary table, bytes
pass through in 1 MB chunks, index lines are sorted on disk and merged, page
lines are written as the catalogue's cursor reads them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal_crawler import __version__
from portal_crawler.catalogue import Catalogue
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.core.times import iso_seconds
from portal_crawler.wacz.indexing import IndexPart, RecordDamage, index_part, write_index
from portal_crawler.wacz.layout import (
    ARCHIVE_DIR,
    EXTRA_PAGES,
    PAGES,
    PROFILE,
    WACZ_VERSION,
    ZIPNUM_LINES,
    EmptySlice,
    SliceSpec,
    WaczFailure,
)
from portal_crawler.wacz.package import PackageWriter, check_output
from portal_crawler.wacz.pages import PageCounts, article_pages, has_listings, listing_pages
from portal_crawler.wacz.records import ChunkReader, slice_bytes, source_offset, whole_file
from portal_crawler.wacz.requisites import add_requisites
from portal_crawler.wacz.selection import Selection


@dataclass(frozen=True)
class WaczRequest:
    """What to package and where: `output` (a .wacz path), the slice, the package's title and description."""

    output: Path
    slice: SliceSpec = field(default_factory=SliceSpec)
    title: str | None = None
    description: str | None = None
    force: bool = False
    zipnum_lines: int = ZIPNUM_LINES


@dataclass
class WaczReport:
    """What the package holds."""

    output: Path
    warc_files: int = 0
    index: str = ""
    index_lines: int = 0
    pages: PageCounts = field(default_factory=PageCounts)
    size: int = 0

    def line(self) -> str:
        return (
            f"wacz: {self.pages.articles} articles, {self.pages.listings} listing pages, {self.index_lines} index"
            f" lines ({self.index}), {self.warc_files} WARC files, {self.size / 1e6:.1f} MB -> {self.output}"
        )


def write_wacz(archive: Path, request: WaczRequest) -> WaczReport:
    """Package the archive's slice as `request.output`, complete or not at all."""
    paths = ArchivePaths(archive)
    check_output(Path(request.output), request.force)
    catalogue = Catalogue.reader(paths.catalogue)
    try:
        selection = Selection(catalogue.conn, request.slice)
        try:
            return _package(paths, selection, request)
        finally:
            selection.close()
    finally:
        catalogue.close()


def write_run_wacz(archive: Path, run_id: int) -> str:
    """`crawl --wacz`: the run's package beside the WARC files (`warc/MPS-run-N.wacz`); its report line."""
    output = ArchivePaths(archive).warc / f"MPS-run-{run_id}.wacz"
    try:
        return write_wacz(archive, WaczRequest(output, SliceSpec(run=run_id))).line()
    except EmptySlice:
        return f"wacz: run {run_id} captured nothing: no package written"


def _package(paths: ArchivePaths, selection: Selection, request: WaczRequest) -> WaczReport:
    if not request.slice.whole:
        selection.add_originals()  # first, so that a revisit page's HTML can be read for its requisites
        add_requisites(selection, paths)
        selection.add_originals()
    output = Path(request.output)
    report = WaczReport(output)
    with (
        PackageWriter(output, request.force) as package,
        tempfile.TemporaryDirectory(prefix=f".{output.name}.", dir=output.parent) as scratch,
    ):
        parts = _archive_entries(package, selection, paths, Path(scratch))
        report.warc_files = len(parts)
        report.index, report.index_lines = write_index(package, parts, Path(scratch), request.zipnum_lines)
        package.add_lines(PAGES, article_pages(selection.conn, report.pages))
        if has_listings(selection.conn):
            package.add_lines(EXTRA_PAGES, listing_pages(selection.conn, report.pages))
        package.finish(_metadata(request, report.pages))
    report.size = output.stat().st_size
    return report


def _archive_entries(
    package: PackageWriter, selection: Selection, paths: ArchivePaths, scratch: Path
) -> list[IndexPart]:
    """Each WARC file into `archive/`, indexed on the way; the sorted index part of each."""
    whole = selection.spec.whole
    names = sorted(p.name for p in paths.warc.glob("*.warc.gz")) if whole else selection.files()
    parts = []
    for number, name in enumerate(names):
        source = paths.warc_file(name)
        if not source.is_file():
            raise WaczFailure(f"{source} is missing, yet the catalogue points into it (see 'portal-crawler verify')")
        with package.entry(ARCHIVE_DIR + name, stored=True, size_bound=source.stat().st_size) as sink:
            chunks = whole_file(source, sink) if whole else slice_bytes(source, selection.pointers(name), sink)
            reader = ChunkReader(chunks)
            try:
                parts.append(index_part(reader, name, scratch / f"{number}.cdxj"))
                reader.drain()
            except RecordDamage as damage:
                where = source_offset(source, None if whole else selection.pointers(name), damage.offset)
                raise WaczFailure(
                    f"{source}: damaged WARC record at offset {where}: {_reason(damage)};"
                    " no package was written (run 'portal-crawler verify')"
                ) from None
    return parts


def _reason(error: BaseException) -> str:
    text = str(error)
    return text if len(text) <= 160 else text[:157] + "..."


def _metadata(request: WaczRequest, pages: PageCounts) -> dict[str, Any]:
    """datapackage.json's fields besides `resources` (WACZ 1.1.1: profile, wacz_version, the context)."""
    what = request.slice.describe()
    metadata: dict[str, Any] = {
        "profile": PROFILE,
        "wacz_version": WACZ_VERSION,
        "title": request.title or f"MPS English news portal: {what}",
        "description": request.description
        or f"{pages.articles} articles and {pages.listings} listing pages of the MPS English news portal"
        f" ({what}), archived by portal-crawler; pages/pages.jsonl holds each article's catalogued text.",
        "created": iso_seconds(),
        "software": f"portal-crawler {__version__}",
    }
    if pages.main_url:
        metadata["mainPageUrl"], metadata["mainPageDate"] = pages.main_url, pages.main_date
    return metadata
