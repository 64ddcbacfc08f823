"""The archivist's desk: `show`, `search`, `history`, `diff`, `export`, `stats` and `browse`, thin commands over
portal_crawler.desk."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import click

from portal_crawler.cli.errors import PortalCommand
from portal_crawler.cli.options import PORT, TEXT, archive_option, count, filter_options, open_catalogue
from portal_crawler.cli.room import READ_EXITS, diff, history, replay_base_option
from portal_crawler.core.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageProblem
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.desk.search import MAX_LIMIT

ANSI_BOLD = ("\x1b[1m", "\x1b[0m")


@click.command(cls=PortalCommand, exit_codes=(EXIT_OK, EXIT_ERRORS, EXIT_USAGE))
@archive_option
@click.argument("article_id", type=TEXT)
@click.option("--html", "fmt", flag_value="html", help="The archived page bytes, read back from WARC.")
@click.option(
    "--text", "fmt", flag_value="text", default=True, help="Title, date, author, paragraphs, captions (default)."
)
@click.option("--json", "fmt", flag_value="json", help="Every catalogue field as JSON.")
@click.option(
    "--cite", "fmt", flag_value="cite", help="A citation: title, date, URL, capture time, replay URL, WARC record."
)
@click.option(
    "--article-version",
    "version",
    type=count(),
    metavar="N",
    help="This version of the article instead of the latest (its old name --version N still works).",
)
@click.option("--version", "legacy_version", type=count(), hidden=True)  # the old name, kept working
@replay_base_option
def show(
    archive: Path, article_id: str, fmt: str, version: int | None, legacy_version: int | None, replay_base: str
) -> None:
    """Show one article by its portal ID (t6294, or the 10-digit ID), with the replay URL of its capture.

    Exit 2 when there is no such article or version, 1 when its WARC record cannot be read.

    Example: portal-crawler show t6294 --article-version 1 --cite
    """
    from portal_crawler.desk.cite import cite, replay_link
    from portal_crawler.desk.reading import article_text, article_version, page_html

    if version is not None and legacy_version is not None and version != legacy_version:
        raise UsageProblem(f"--article-version {version} and --version {legacy_version} disagree: give one")
    version = version if version is not None else legacy_version
    catalogue = open_catalogue(archive)
    article = article_version(catalogue, article_id, version)
    if fmt == "html":
        sys.stdout.buffer.write(page_html(catalogue, ArchivePaths(archive).warc, article, latest=version is None))
    elif fmt == "cite":
        click.echo(cite(catalogue, article, replay_base).text())
    else:
        article["replay_url"] = replay_link(catalogue, article, replay_base)
        click.echo(json.dumps(article, ensure_ascii=False, indent=2) if fmt == "json" else article_text(article))


@click.command(cls=PortalCommand, exit_codes=READ_EXITS)
@archive_option
@click.argument("query", type=TEXT)
@filter_options
@click.option(
    "--limit", type=count(1, MAX_LIMIT), default=20, show_default=True, help=f"At most N hits (N <= {MAX_LIMIT:,})."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="A JSON array of hits (id, title, published, author, url, snippet, rank, replay_url).",
)
@replay_base_option
def search(
    archive: Path,
    query: str,
    since: str | None,
    until: str | None,
    author: str | None,
    limit: int,
    as_json: bool,
    replay_base: str,
) -> None:
    """Full-text search of titles, summaries, bodies and authors, best match first.

    QUERY is FTS5 syntax: words (all must match), "a phrase", prefix*, OR, NOT,
    title:word; at most 1,000 characters and 64 terms. Matches are marked
    [like this] (bold on a terminal). Each hit ends with the replay URL of its capture.

    Example: portal-crawler search '"drug trafficking" Nghệ' --since 2024-01-01 --limit 5
    """
    from portal_crawler.desk.cite import replay_links
    from portal_crawler.desk.search import PLAIN_MARKS
    from portal_crawler.desk.search import search as find

    marks = ANSI_BOLD if sys.stdout.isatty() and not as_json else PLAIN_MARKS
    catalogue = open_catalogue(archive)
    hits = find(catalogue, query, since, until, author, limit, marks=marks)
    links = replay_links(catalogue, [hit.id for hit in hits], replay_base)
    if as_json:
        found = [{**asdict(hit), "replay_url": links.get(hit.id)} for hit in hits]
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for hit in hits:
        click.echo(
            f"{hit.id}  {hit.published or '----------'}  {hit.title or '(no title)'}  ({hit.author or 'no author'})"
        )
        click.echo(f"    {hit.snippet}")
        click.echo(f"    replay: {links.get(hit.id, '(its capture is not catalogued)')}")
    more = " (raise --limit for more)" if len(hits) == limit else ""
    click.echo(f"{len(hits)} hit{'s' * (len(hits) != 1)}{more}", err=True)


@click.command(cls=PortalCommand, exit_codes=(EXIT_OK, EXIT_ERRORS, EXIT_USAGE))
@archive_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@filter_options
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (complete or not at all) instead of stdout; never inside the archive.",
)
@click.option("--force", is_flag=True, help="Replace FILE when it exists.")
def export(
    archive: Path,
    fmt: str,
    since: str | None,
    until: str | None,
    author: str | None,
    output: Path | None,
    force: bool,
) -> None:
    """Every field of every article as JSON Lines or CSV (UTF-8), oldest first.

    Captions, images and problems are JSON arrays (JSON text in CSV). A file
    is written under a temporary name beside it and renamed when complete.

    Example: portal-crawler export --format csv --since 2024-01-01 --output articles-2024.csv
    """
    from portal_crawler.desk.export import export as write

    written = write(open_catalogue(archive), fmt, output, since, until, author, force=force)
    if output:
        click.echo(f"exported {written} articles to {output}", err=True)


@click.command(cls=PortalCommand, exit_codes=READ_EXITS)
@archive_option
@click.option("--json", "as_json", is_flag=True, help="The figures as one JSON object.")
def stats(archive: Path, as_json: bool) -> None:
    """Articles per year and month (with the gaps), runs, WARC bytes, extraction quality.

    Example: portal-crawler stats --archive /srv/mps-archive
    """
    from portal_crawler.desk.stats import collect, render

    figures = collect(open_catalogue(archive), ArchivePaths(archive).warc)
    if as_json:
        click.echo(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(figures, shutil.get_terminal_size((80, 24)).columns))


@click.command(cls=PortalCommand, exit_codes=READ_EXITS)
@archive_option
@click.option("--port", type=click.IntRange(1, PORT.max), default=8001, show_default=True, help="Port on 127.0.0.1.")
@replay_base_option
def browse(archive: Path, port: int, replay_base: str) -> None:
    """Browse and query the catalogue in Datasette (read-only, on 127.0.0.1) until Ctrl-C.

    The reading room: articles link to their replayed page and their versions
    (with the diff between each two), author queries ignore case and accents,
    counts per month and per year are drawn as charts. Needs the `browse`
    extra (pip install 'portal-crawler[browse]').

    Example: portal-crawler browse --archive /srv/mps-archive --port 8001
    """
    from portal_crawler.cli.serving import check_port, require_extra

    require_extra("browse", "browse", "datasette")
    from portal_crawler.desk.browse import HOST, serve

    open_catalogue(archive).close()  # fails here, in one line, when there is no usable catalogue
    check_port(HOST, port)
    serve(ArchivePaths(archive).catalogue, port, replay_base)


COMMANDS = (show, search, history, diff, export, stats, browse)
