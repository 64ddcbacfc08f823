"""Commands that look after an archive: `verify`, `reindex` and `replay`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal_crawler.cli.errors import PortalCommand
from portal_crawler.cli.options import PORT, TEXT, archive_option, existing_archive, summary_option
from portal_crawler.cli.serving import check_port, require_extra
from portal_crawler.core.errors import EXIT_BUSY, EXIT_ERRORS, EXIT_OK, EXIT_USAGE
from portal_crawler.core.paths import ArchivePaths

REPLAY_HOST = "127.0.0.1"


@click.command(cls=PortalCommand, exit_codes=(EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_BUSY))
@archive_option
@click.option(
    "--repair", is_flag=True, help="Cut a torn final record (kept in quarantine/) and reconcile the catalogue."
)
@summary_option
def verify(archive: Path, repair: bool, summary: bool) -> None:
    """Check that every catalogue pointer resolves to an intact WARC record; report orphans.

    Each problem is one line on stderr with file, offset and record ID; exit 1
    if there is any. The closing verdict line is printed on a terminal, with
    --summary, or when there are problems (under cron, a clean archive prints
    nothing); each repair made is always one line.

    Example: portal-crawler verify --archive /srv/mps-archive --repair
    """
    from portal_crawler.upkeep.verify import verify_archive

    report = verify_archive(existing_archive(archive), repair=repair)
    for action in report.repaired:
        click.echo(f"repaired: {action}")
    for problem in report.problems:
        click.echo(f"{problem.kind}: {problem.line()}", err=True)
    verdict = "ok" if report.ok else f"{len(report.problems)} problems"
    if summary or not report.ok:
        click.echo(
            f"verify: {report.files} WARC files, {report.records_scanned} records, "
            f"{report.captures_checked} captures checked: {verdict}"
        )
    sys.exit(EXIT_OK if report.ok else EXIT_ERRORS)


@click.command(cls=PortalCommand, exit_codes=(EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_BUSY))
@archive_option
@click.option(
    "--warc-dir", type=click.Path(file_okay=False, path_type=Path), help="WARC files to read (default ARCHIVE/warc)."
)
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Catalogue to write (default ARCHIVE/catalogue.db; the old one is kept as .bak).",
)
@click.option("--profile", type=TEXT, default="mps", show_default=True, help="Site profile name or TOML path.")
def reindex(archive: Path, warc_dir: Path | None, catalogue_path: Path | None, profile: str) -> None:
    """Rebuild the catalogue from the WARC files alone, with the current profile.

    Example: portal-crawler reindex --archive /srv/mps-archive
    """
    from portal_crawler.core.lock import ArchiveLock
    from portal_crawler.extraction.profile import load_profile
    from portal_crawler.upkeep.reindex import reindex as rebuild
    from portal_crawler.upkeep.reindex import warc_files

    paths = ArchivePaths(archive)
    warc_dir = warc_dir or paths.warc
    catalogue_path = catalogue_path or paths.catalogue
    warc_files(warc_dir)  # no WARC directory, or a bad profile: refused before anything is written
    load_profile(profile)
    with ArchiveLock(catalogue_path.parent):
        report = rebuild(warc_dir, catalogue_path, profile)
    click.echo(
        f"reindexed {report.files} WARC files: {report.captures} captures, {report.articles} articles,"
        f" {report.versions} versions, {report.out_of_scope} captures out of scope -> {catalogue_path}"
    )
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    for place in report.damage:
        click.echo(f"damaged: {place.line()}", err=True)
    sys.exit(report.exit_code)


@click.command(cls=PortalCommand, exit_codes=(EXIT_OK, EXIT_USAGE))
@archive_option
@click.option("--port", type=PORT, default=8090, show_default=True, help="0 picks a free port.")
@click.option(
    "--wacz",
    "waczs",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    metavar="FILE.wacz",
    help="Serve this WACZ package instead of the archive, read in place (repeatable).",
)
def replay(archive: Path, port: int, waczs: tuple[Path, ...]) -> None:
    """Serve the archive as a wayback (pywb collection `mps` over ARCHIVE/warc) on 127.0.0.1.

    A page is at http://127.0.0.1:PORT/mps/<timestamp>/<original URL>, its raw
    bytes at .../mps/<timestamp>id_/<original URL>. With --wacz, the packages
    given are served instead (same URLs), straight from the .wacz files.
    Needs the `replay` extra (pip install 'portal-crawler[replay]').

    Example: portal-crawler replay --archive /srv/mps-archive --port 8090
    """
    require_extra("replay", "replay", "pywb", "cdxj_indexer")
    from portal_crawler.upkeep.replay import serve

    if not waczs:
        existing_archive(archive)
    check_port(REPLAY_HOST, port)  # before indexing: a busy port costs nothing
    serve(archive, port=port, host=REPLAY_HOST, waczs=list(waczs) or None)


COMMANDS = (verify, reindex, replay)
