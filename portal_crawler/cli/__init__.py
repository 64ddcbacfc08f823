"""The `portal-crawler` command: thin click commands over the library.

Every error a user can cause becomes one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from portal_crawler import __version__
from portal_crawler.catalogue import CatalogueError
from portal_crawler.cli.desk import browse, export, search, stats
from portal_crawler.cli.options import UsageError, archive_option, open_catalogue
from portal_crawler.core.errors import PortalError
from portal_crawler.desk.reading import NotFound
from portal_crawler.extraction.profile import ProfileError
from portal_crawler.upkeep.reindex import ReindexError
from portal_crawler.warc.reader import WarcReadError


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"bad --start-url {url!r}: give an absolute http(s) URL")
    return url


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="portal-crawler")
def cli() -> None:
    """Archive the MPS English news portal as WARC captures with a SQLite catalogue."""


@cli.command()
@archive_option
@click.option("--profile", default="mps", show_default=True, help="Site profile name or TOML path.")
@click.option(
    "--start-url", "start_urls", multiple=True, help="Start here instead of the profile's start URLs (repeatable)."
)
@click.option("--full", is_flag=True, help="Walk every listing page and fetch every article.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after this many listing pages.")
@click.option("--recheck-days", type=click.IntRange(min=0), help="Re-fetch articles published in the last D days.")
@click.option(
    "--fast", is_flag=True, envvar="PORTAL_FAST", help="Lift politeness limits (for the replica on loopback only)."
)
@click.option(
    "--warc-max-size", type=click.IntRange(min=1), help="Rotate WARC files at this many bytes (default 1 GB)."
)
@click.option(
    "-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Override a Scrapy setting (repeatable)."
)
def crawl(
    archive: Path,
    profile: str,
    start_urls: tuple[str, ...],
    full: bool,
    max_pages: int | None,
    recheck_days: int | None,
    fast: bool,
    warc_max_size: int | None,
    overrides: tuple[str, ...],
) -> None:
    """One crawl run: incremental unless --full; prints a one-line summary.

    Exit 0 when everything wanted was archived, 1 when some fetches failed,
    2 on bad usage or configuration, 75 when another run holds the archive.

    Example: portal-crawler crawl --archive /srv/mps-archive
    """
    from portal_crawler.crawl.run import CrawlOptions, run_crawl

    options = CrawlOptions(
        archive=archive,
        profile=profile,
        start_urls=[_check_url(u) for u in start_urls],
        full=full,
        max_pages=max_pages,
        recheck_days=recheck_days,
        fast=fast,
    )
    if warc_max_size:
        options.settings["PORTAL_WARC_MAX_SIZE"] = warc_max_size
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not name.isupper():
            raise UsageError(f"bad --set {override!r}: give NAME=VALUE with an upper-case Scrapy setting name")
        options.settings[name] = value
    options.progress = sys.stderr.isatty()
    result = run_crawl(options)
    click.echo(result.summary())
    if result.error:
        click.echo(f"portal-crawler: {result.error}", err=True)
    sys.exit(result.exit_code)


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--articles",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Generated articles besides the five seeds.",
)
@click.option("--layout", type=click.Choice(["legacy", "current"]), default="legacy", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the article generator.")
def replica(port: int, host: str, articles: int, layout: str, seed: int) -> None:
    """Serve the replica portal until stopped (Ctrl-C).

    Example: portal-crawler replica --port 8080 --articles 2000 --layout current
    """
    from portal_crawler.replica import ReplicaConfig, serve

    serve(ReplicaConfig(articles=articles, layout=layout, seed=seed, host=host, port=port))


@cli.command()
@archive_option
@click.option("--articles", type=click.IntRange(min=0), default=200, show_default=True)
def demo(archive: Path, articles: int) -> None:
    """Start the replica on a free port, crawl it, show where the archive is and three articles.

    Example: portal-crawler demo --archive demo-archive
    """
    from portal_crawler.cli.demo import run_demo

    sys.exit(run_demo(archive, articles))


@cli.command()
@archive_option
@click.argument("article_id")
@click.option("--html", "fmt", flag_value="html", help="The archived page bytes, read back from WARC.")
@click.option(
    "--text", "fmt", flag_value="text", default=True, help="Title, date, author, paragraphs, captions (default)."
)
@click.option("--json", "fmt", flag_value="json", help="Every catalogue field as JSON.")
@click.option("--version", "version", type=click.IntRange(min=1), help="Show this version instead of the latest.")
def show(archive: Path, article_id: str, fmt: str, version: int | None) -> None:
    """Show one article by its portal ID (t6294, or the 10-digit ID).

    Example: portal-crawler show t6294 --html > t6294.html
    """
    from portal_crawler.desk.reading import article_text, article_version, page_html

    catalogue = open_catalogue(archive)
    article = article_version(catalogue, article_id, version)
    if fmt == "html":
        sys.stdout.buffer.write(page_html(catalogue, archive / "warc", article, latest=version is None))
    elif fmt == "json":
        click.echo(json.dumps(article, ensure_ascii=False, indent=2))
    else:
        click.echo(article_text(article))


@cli.command()
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
@click.option("--profile", default="mps", show_default=True)
def reindex(archive: Path, warc_dir: Path | None, catalogue_path: Path | None, profile: str) -> None:
    """Rebuild the catalogue from the WARC files alone, with the current profile.

    Example: portal-crawler reindex --archive /srv/mps-archive
    """
    from portal_crawler.core.lock import ArchiveLock
    from portal_crawler.upkeep.reindex import reindex as rebuild

    warc_dir = warc_dir or archive / "warc"
    catalogue_path = catalogue_path or archive / "catalogue.db"
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


@cli.command()
@archive_option
@click.option(
    "--repair", is_flag=True, help="Cut a torn final record (kept in quarantine/) and reconcile the catalogue."
)
def verify(archive: Path, repair: bool) -> None:
    """Check that every catalogue pointer resolves to an intact WARC record; report orphans.

    Each problem is one line with file, offset and record ID; exit 1 if there is any.

    Example: portal-crawler verify --archive /srv/mps-archive --repair
    """
    from portal_crawler.upkeep.verify import verify_archive

    if not archive.is_dir():
        raise UsageError(f"no archive at {archive} (pass --archive DIR or set PORTAL_ARCHIVE)")
    report = verify_archive(archive, repair=repair)
    for action in report.repaired:
        click.echo(f"repaired: {action}")
    for problem in report.problems:
        click.echo(f"{problem.kind}: {problem.line()}", err=True)
    verdict = "ok" if report.ok else f"{len(report.problems)} problems"
    click.echo(
        f"verify: {report.files} WARC files, {report.records_scanned} records, "
        f"{report.captures_checked} captures checked: {verdict}"
    )
    sys.exit(0 if report.ok else 1)


@cli.command()
@archive_option
@click.option("--port", type=click.IntRange(0, 65535), default=8090, show_default=True, help="0 picks a free port.")
def replay(archive: Path, port: int) -> None:
    """Serve the archive as a wayback (pywb collection `mps` over ARCHIVE/warc) on 127.0.0.1.

    A page is at http://127.0.0.1:PORT/mps/<timestamp>/<original URL>, its raw
    bytes at .../mps/<timestamp>id_/<original URL>.

    Example: portal-crawler replay --archive /srv/mps-archive --port 8090
    """
    from portal_crawler.upkeep.replay import ReplayError, serve

    try:
        serve(archive, port=port)
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from None


def main() -> None:
    """Entry point: library errors become one line on stderr."""
    try:
        cli(standalone_mode=True)
    except PortalError as exc:  # ArchiveBusy (the lock, another SQLite writer) 75, Failure 1, UsageProblem 2
        click.echo(f"portal-crawler: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (ProfileError, CatalogueError, ReindexError) as exc:
        click.echo(f"portal-crawler: {exc}", err=True)
        sys.exit(2)
    except (NotFound, WarcReadError, OSError) as exc:
        click.echo(f"portal-crawler: {exc}", err=True)
        sys.exit(1)


for _command in (search, export, stats, browse):
    cli.add_command(_command)
