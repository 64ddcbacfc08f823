"""The archivist's desk: `search`, `export`, `stats` and `browse`, thin click commands over the library.

Each command reports bad input as one line on stderr with exit 2: click's own
usage errors lose their usage banner (DeskCommand), and the library's
DeskError becomes a UsageError.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from portal_crawler.cli.options import UsageError, archive_option, open_catalogue
from portal_crawler.desk.search import DeskError

ANSI_BOLD = ("\x1b[1m", "\x1b[0m")


class DeskCommand(click.Command):
    """A command whose every input error is one line: 'Error: ...', exit 2."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            exc.ctx = None  # no usage banner and hint: the message alone
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DeskError as exc:
            raise UsageError(str(exc)) from None


def filter_options(func: Any) -> Any:
    """--since, --until, --author: written once, shared by search and export."""
    func = click.option("--author", metavar="NAME", help="Author contains NAME (case and accents ignored).")(func)
    func = click.option("--until", metavar="DATE", help="Published on or before DATE (YYYY-MM-DD).")(func)
    return click.option("--since", metavar="DATE", help="Published on or after DATE (YYYY-MM-DD).")(func)


@click.command(cls=DeskCommand)
@archive_option
@click.argument("query")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N hits.")
@click.option(
    "--json", "as_json", is_flag=True, help="A JSON array of hits (id, title, published, author, url, snippet, rank)."
)
def search(
    archive: Path, query: str, since: str | None, until: str | None, author: str | None, limit: int, as_json: bool
) -> None:
    """Full-text search of titles, summaries, bodies and authors, best match first.

    QUERY is FTS5 syntax: words (all must match), "a phrase", prefix*, OR, NOT,
    title:word. Matches are marked [like this] (bold on a terminal).

    Example: portal-crawler search '"drug trafficking" Nghệ' --since 2024-01-01 --limit 5
    """
    from portal_crawler.desk.search import PLAIN_MARKS
    from portal_crawler.desk.search import search as find

    marks = ANSI_BOLD if sys.stdout.isatty() and not as_json else PLAIN_MARKS
    hits = find(open_catalogue(archive), query, since, until, author, limit, marks=marks)
    if as_json:
        click.echo(json.dumps([asdict(hit) for hit in hits], ensure_ascii=False, indent=2))
        return
    for hit in hits:
        click.echo(
            f"{hit.id}  {hit.published or '----------'}  {hit.title or '(no title)'}  ({hit.author or 'no author'})"
        )
        click.echo(f"    {hit.snippet}")
    click.echo(
        f"{len(hits)} hit{'s' * (len(hits) != 1)}" + (" (raise --limit for more)" if len(hits) == limit else ""),
        err=True,
    )


@click.command(cls=DeskCommand)
@archive_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@filter_options
@click.option("--output", type=click.Path(path_type=Path), help="Write to FILE (via FILE.tmp) instead of stdout.")
def export(
    archive: Path, fmt: str, since: str | None, until: str | None, author: str | None, output: Path | None
) -> None:
    """Every field of every article as JSON Lines or CSV (UTF-8), oldest first.

    Captions, images and problems are JSON arrays (JSON text in CSV).

    Example: portal-crawler export --format csv --since 2024-01-01 --output articles-2024.csv
    """
    from portal_crawler.desk.export import check_output
    from portal_crawler.desk.export import export as write

    check_output(output)
    count = write(open_catalogue(archive), fmt, output, since, until, author)
    if output:
        click.echo(f"exported {count} articles to {output}", err=True)


@click.command(cls=DeskCommand)
@archive_option
@click.option("--json", "as_json", is_flag=True, help="The figures as one JSON object.")
def stats(archive: Path, as_json: bool) -> None:
    """Articles per year and month (with the gaps), runs, WARC bytes, extraction quality.

    Example: portal-crawler stats --archive /srv/mps-archive
    """
    from portal_crawler.desk.stats import collect, render

    figures = collect(open_catalogue(archive), archive / "warc")
    if as_json:
        click.echo(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(figures, shutil.get_terminal_size((80, 24)).columns))


@click.command(cls=DeskCommand)
@archive_option
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
def browse(archive: Path, port: int) -> None:
    """Browse and query the catalogue in Datasette (read-only, on 127.0.0.1) until Ctrl-C.

    Example: portal-crawler browse --archive /srv/mps-archive --port 8001
    """
    from portal_crawler.desk.browse import serve

    open_catalogue(archive).close()  # fails here, in one line, when there is no usable catalogue
    serve(archive / "catalogue.db", port)
