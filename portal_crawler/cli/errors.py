"""The one place an error becomes output: `portal-crawler: MESSAGE`, one line on stderr, and an exit code.

- a `PortalError` (core.errors) prints its message and exits with its `exit_code`;
- click's own usage errors (unknown option, missing argument, bad value) print
  one line too, without click's usage banner, and exit 2, for every command;
- an `OSError` exits 2 when the path or address given cannot be used
  (permission denied, read-only file system, no such directory, port in use:
  fix the command line and run again), and 1 when the system failed while
  working (disk full, quota, I/O error: the command may have done part of its
  work; `verify` says what the archive holds);
- anything else is a bug: one line saying so, exit 1; the traceback only with
  PORTAL_DEBUG=1.

Commands are `PortalCommand`s: their --help lists the exit codes they can give
(from `core.errors.EXIT_CODES`) and ends with the `Example:` line that closes
their docstring.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import click

from portal_crawler.core.errors import EXIT_CODES, EXIT_ERRORS, EXIT_OK, EXIT_USAGE, PortalError

PROG = "portal-crawler"
DEBUG_ENV = "PORTAL_DEBUG"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

# The path or address given cannot be used: a usage problem, nothing was done.
USAGE_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.EADDRINUSE,
        errno.EADDRNOTAVAIL,
    }
)
OS_HINTS = {
    errno.ENOSPC: "disk full; free some space and run again ('portal-crawler verify' checks the archive)",
    errno.EDQUOT: "disk quota exceeded; free some space and run again",
    errno.EROFS: "the file system is mounted read-only",
    errno.EACCES: "check the permissions",
    errno.EPERM: "check the permissions",
    errno.EADDRINUSE: "give another --port",
}


def say(message: str) -> None:
    """Print `portal-crawler: MESSAGE` as one line on stderr, whatever bytes the message holds."""
    line = " ".join(message.split()) or "failed"
    click.echo(f"{PROG}: {line.encode('utf-8', 'backslashreplace').decode('utf-8')}", err=True)


def usage_line(exc: click.UsageError) -> str:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) and exc.ctx and isinstance(exc.ctx.command, click.Group):
        names = ", ".join(exc.ctx.command.list_commands(exc.ctx))
        return f"give a command: {names} ('{PROG} --help' says what each does)"
    hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
    return exc.format_message() + hint


def os_error_line(exc: OSError) -> tuple[str, int]:
    what = exc.strerror or str(exc) or type(exc).__name__
    where = f"cannot use {exc.filename}: " if exc.filename else ""
    hint = OS_HINTS.get(exc.errno or 0)
    code = EXIT_USAGE if exc.errno in USAGE_ERRNOS else EXIT_ERRORS
    return f"{where}{what}" + (f" ({hint})" if hint else ""), code


def describe(exc: BaseException) -> tuple[str, int]:
    """The one line and the exit code for an exception that ended a command."""
    if isinstance(exc, click.UsageError):
        return usage_line(exc), EXIT_USAGE
    if isinstance(exc, click.ClickException):
        return exc.format_message(), exc.exit_code
    if isinstance(exc, PortalError):
        return str(exc), exc.exit_code
    if isinstance(exc, OSError):
        return os_error_line(exc)
    if isinstance(exc, click.Abort | KeyboardInterrupt):
        return "interrupted", EXIT_INTERRUPTED
    return (
        f"unexpected {type(exc).__name__}: {exc} (a bug: run again with {DEBUG_ENV}=1 for the traceback,"
        " and report it with the run's log from ARCHIVE/logs/ if it was a crawl)",
        EXIT_ERRORS,
    )


def run(command: Callable[[], Any]) -> int:
    """Call `command` (click's main in non-standalone mode) and turn whatever ends it into an exit code."""
    try:
        result = command()
    except (Exception, KeyboardInterrupt) as exc:
        if os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
        message, code = describe(exc)
        say(message)
        return code
    return result if isinstance(result, int) else EXIT_OK


class PortalGroup(click.Group):
    """The `portal-crawler` group: every error of every command goes through `run`."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        call = functools.partial(super().main, args, prog_name or PROG, complete_var, False, **extra)
        if not standalone_mode:
            return call()
        sys.exit(run(call))


class PortalCommand(click.Command):
    """A command whose --help ends with its exit codes and its example.

    `exit_codes` are the codes this command can give; the example is the
    docstring's last line, `Example: portal-crawler ...` (required).
    """

    def __init__(self, *args: Any, exit_codes: Sequence[int] = (EXIT_OK, EXIT_USAGE), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        body, marker, example = (self.help or "").rpartition("Example:")
        if not marker or not example.strip().startswith(PROG):
            raise TypeError(f"command {self.name!r}: its docstring must end with 'Example: {PROG} ...'")
        unknown = set(exit_codes) - set(EXIT_CODES)
        if unknown:
            raise TypeError(f"command {self.name!r}: exit codes {sorted(unknown)} are not in core.errors.EXIT_CODES")
        self.help, self.example, self.exit_codes = body.rstrip(), " ".join(example.split()), tuple(exit_codes)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        with formatter.section("Exit codes"):
            formatter.write_dl([(str(code), EXIT_CODES[code]) for code in self.exit_codes])
        formatter.write_paragraph()
        formatter.write(f"Example: {self.example}\n")  # unwrapped: one line to copy
