"""The one error type every user-facing failure is, with the exit code it ends the command with.

Library code raises a `PortalError` subclass whose message is one line that
says what is wrong and how to fix it; the CLI prints `portal-crawler: MESSAGE`
on stderr and exits with `exit_code`, in one place (`cli.errors`).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERRORS = 1  # finished, but something failed (fetch errors, damage found)
EXIT_USAGE = 2  # bad usage, input or configuration: nothing was done
EXIT_DRIFT = 3  # archived, but the site no longer looks like its profile
EXIT_BLOCKED = 4  # stopped: the portal is refusing the crawler
EXIT_BUSY = 75  # another process holds the archive (EX_TEMPFAIL): try again later

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "everything wanted was done",
    EXIT_ERRORS: "finished, but something failed or damage was found",
    EXIT_USAGE: "bad usage, input or configuration; nothing was changed",
    EXIT_DRIFT: "archived, but the site no longer looks like its profile (layout drift)",
    EXIT_BLOCKED: "stopped: the portal is refusing the crawler (challenge pages)",
    EXIT_BUSY: "another run or SQLite writer holds the archive; try again later",
}


class PortalError(Exception):
    """A failure the user can act on; the message is one line."""

    exit_code = EXIT_USAGE


class UsageProblem(PortalError):
    """Bad input or configuration: nothing was done."""

    exit_code = EXIT_USAGE


class ArchiveBusy(PortalError):
    """Another process holds the archive or its catalogue."""

    exit_code = EXIT_BUSY


class RunOutcome(PortalError):
    """A crawl run that ended not plainly ok: its one line, and the exit code its outcome gives (1, 3 or 4)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Failure(PortalError):
    """The command ran but could not do all it should (damage, unreadable records, a dead writer)."""

    exit_code = EXIT_ERRORS
