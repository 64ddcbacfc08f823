"""What the commands share: --archive, the filters, bounded numbers, text that must be UTF-8, start URLs.

Every value is checked where click parses it, so bad input fails before any
work, as one line (cli.errors), exit 2.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from portal_crawler.core.errors import UsageProblem
from portal_crawler.core.paths import ArchivePaths

if TYPE_CHECKING:
    from portal_crawler.catalogue import Catalogue

DEFAULT_ARCHIVE = "archive"
MAX_COUNT = 1_000_000  # articles, pages, versions: beyond any real archive, far below SQLite's 64-bit integers
MAX_RECHECK_DAYS = 36_500  # a century
MAX_WARC_SIZE = 1 << 40
PORT = click.IntRange(0, 65535)


def count(low: int = 1, high: int = MAX_COUNT) -> click.IntRange:
    """A whole number in [low, high]: a bound for every number a user types (10**23 is refused, not overflowed)."""
    return click.IntRange(low, high)


class Utf8Text(click.ParamType):
    """Text that is valid UTF-8: argv bytes that are not arrive as surrogates, which SQLite and regexes refuse."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            self.fail(
                f"{text!r} is not UTF-8 text (byte {exc.start + 1} could not be decoded): type it again in a"
                " UTF-8 terminal (LANG=C.UTF-8)",
                param,
                ctx,
            )
        if "\x00" in text:
            self.fail(f"{text!r} holds a NUL character", param, ctx)
        return text


TEXT = Utf8Text()


class StartUrl(Utf8Text):
    """An absolute http(s) URL with a host, a valid port and no credentials."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        url = super().convert(value, param, ctx)
        try:
            parts = urlsplit(url)
            port = parts.port  # parses the port: out of range or not a number raises ValueError
        except ValueError as exc:
            self.fail(f"{url!r} is not a usable URL ({exc})", param, ctx)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(f"{url!r}: give an absolute http(s) URL, e.g. https://en.mps.gov.vn/news.html", param, ctx)
        if parts.username is not None or parts.password is not None:
            self.fail(f"{url!r} holds a user name or password: the crawler never sends credentials", param, ctx)
        if port == 0:
            self.fail(f"{url!r}: port 0 is not a port to fetch from", param, ctx)
        return url


class Host(Utf8Text):
    """An IP address to listen on (the servers here are meant for loopback)."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        host = super().convert(value, param, ctx)
        if host == "localhost":
            return host
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            self.fail(f"{host!r} is not an IP address, e.g. 127.0.0.1", param, ctx)


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


def _on_a_terminal(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    return value or sys.stdout.isatty()


def summary_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--summary: the summary line even when stdout is not a terminal (under cron a good run prints nothing).

    The command receives `summary` True on a terminal too: whether to print it.
    """
    return click.option(
        "--summary",
        is_flag=True,
        callback=_on_a_terminal,
        help="Print the summary line even when stdout is not a terminal (cron mails only trouble without it).",
    )(func)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--since, --until, --author: written once, shared by search and export."""
    func = click.option("--author", type=TEXT, metavar="NAME", help="Author contains NAME (case and accents ignored).")(
        func
    )
    func = click.option("--until", type=TEXT, metavar="DATE", help="Published on or before DATE (YYYY-MM-DD).")(func)
    return click.option("--since", type=TEXT, metavar="DATE", help="Published on or after DATE (YYYY-MM-DD).")(func)


def existing_archive(archive: Path) -> Path:
    """The archive a reading command works on, which must exist."""
    if not archive.is_dir():
        raise UsageProblem(f"no archive at {archive} (pass --archive DIR or set PORTAL_ARCHIVE)")
    return archive


def ensure_archive(archive: Path) -> Path:
    """The archive a writing command (crawl, demo) fills, created if need be; refused when it cannot be."""
    try:
        archive.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"cannot use --archive {archive}: {exc.strerror or exc}") from None
    if not os.access(archive, os.W_OK | os.X_OK):
        raise UsageProblem(f"cannot use --archive {archive}: the directory is not writable")
    return archive


def open_catalogue(archive: Path) -> Catalogue:
    from portal_crawler.catalogue import Catalogue

    return Catalogue.reader(ArchivePaths(existing_archive(archive)).catalogue)
