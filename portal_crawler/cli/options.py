"""What the commands share: the usage error, the --archive option, opening a catalogue for reading."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from portal_crawler.catalogue import Catalogue

DEFAULT_ARCHIVE = "archive"


class UsageError(click.ClickException):
    exit_code = 2


def archive_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--archive DIR, defaulting to $PORTAL_ARCHIVE or ./archive."""
    return click.option(
        "--archive",
        "archive",
        type=click.Path(file_okay=False, path_type=Path),
        default=lambda: os.environ.get("PORTAL_ARCHIVE", DEFAULT_ARCHIVE),
        show_default="$PORTAL_ARCHIVE or ./archive",
        help="Archive directory (warc/, catalogue.db, logs/).",
    )(func)


def open_catalogue(archive: Path) -> Catalogue:
    from portal_crawler.catalogue import Catalogue

    if not archive.is_dir():
        raise UsageError(f"no archive at {archive} (pass --archive DIR or set PORTAL_ARCHIVE)")
    return Catalogue.reader(archive / "catalogue.db")
