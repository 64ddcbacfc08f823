"""The reading room's commands: `history` (an article's versions) and `diff` (what changed between two).

`show --cite`, and the replay URLs `show` and `search` print, share the
`--replay-base` option written here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from portal_crawler.cli.errors import PortalCommand
from portal_crawler.cli.options import TEXT, StartUrl, archive_option, count, open_catalogue
from portal_crawler.core.errors import EXIT_OK, EXIT_USAGE
from portal_crawler.desk.wayback import DEFAULT_REPLAY_BASE

READ_EXITS = (EXIT_OK, EXIT_USAGE)


def replay_base_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--replay-base URL: where `portal-crawler replay` serves the archive (its replay links start there)."""
    return click.option(
        "--replay-base",
        type=StartUrl(),
        default=DEFAULT_REPLAY_BASE,
        show_default=True,
        metavar="URL",
        help="Where 'portal-crawler replay' serves the archive; replay links start with it.",
    )(func)


def colour_wanted(as_json: bool = False) -> bool:
    """ANSI colour only for a terminal, never in JSON, and never when NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and not as_json and not os.environ.get("NO_COLOR")


@click.command(cls=PortalCommand, exit_codes=READ_EXITS)
@archive_option
@click.argument("article_id", type=TEXT)
@click.option("--json", "as_json", is_flag=True, help="The versions, their replay URLs and changes as JSON.")
@replay_base_option
def history(archive: Path, article_id: str, as_json: bool, replay_base: str) -> None:
    """List an article's versions: number, capture time, what changed from the one before, replay URL.

    Also prints the pywb Memento TimeMap URL that lists every capture of the article.
    Exit 2 when there is no such article.

    Example: portal-crawler history t6294 --replay-base http://127.0.0.1:8090
    """
    from portal_crawler.desk.history import history as versions
    from portal_crawler.desk.history import render

    found = versions(open_catalogue(archive), article_id, replay_base)
    click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2) if as_json else render(found))


@click.command(cls=PortalCommand, exit_codes=READ_EXITS)
@archive_option
@click.argument("article_id", type=TEXT)
@click.argument("v1", type=count(), required=False)
@click.argument("v2", type=count(), required=False)
@click.option("--json", "as_json", is_flag=True, help="Every change with its word segments as JSON.")
def diff(archive: Path, article_id: str, v1: int | None, v2: int | None, as_json: bool) -> None:
    """A word-level diff of two versions of an article, per field and per paragraph.

    With no versions given, the latest two; with V1 alone, V1 against the latest.
    Deletions are marked [-like this-], insertions {+like this+} (red and green on
    a terminal); a change of white space or punctuation only is marked minor.
    Exit 2 when there is no such article or version.

    Example: portal-crawler diff t6294 1 2
    """
    from portal_crawler.desk.diff import compare
    from portal_crawler.desk.diff_view import render_text
    from portal_crawler.desk.history import heading, pick, version_rows

    rows = version_rows(open_catalogue(archive), article_id)
    pair = pick(rows, article_id, v1, v2)
    if pair is None:
        click.echo(f"{article_id} has one version only: nothing to compare", err=True)
        return
    changes = compare(article_id, *pair)
    if as_json:
        click.echo(json.dumps(changes.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(changes, heading(article_id, *pair), colour=colour_wanted()))
