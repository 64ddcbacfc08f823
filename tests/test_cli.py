"""The command line's contract: every command documented (help, exit codes, example, README row), one error path."""

from __future__ import annotations

import errno
import re
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from portal_crawler.catalogue import Catalogue
from portal_crawler.cli import cli, main
from portal_crawler.cli.errors import PortalCommand, describe
from portal_crawler.core.errors import EXIT_CODES, ArchiveBusy, Failure, UsageProblem

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_exit_codes_an_example_and_a_readme_row(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    lines = result.output.rstrip().splitlines()
    assert lines[-1].startswith(f"Example: portal-crawler {name}"), lines[-1]
    assert "Exit codes:" in result.output
    command = cli.commands[name]
    assert isinstance(command, PortalCommand) and 0 in command.exit_codes and 2 in command.exit_codes
    for code in command.exit_codes:
        assert f"{code}  " in result.output and EXIT_CODES[code] in " ".join(result.output.split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"| `{name}` |" in readme, f"{name} has no row in README's Commands table"


def test_every_exit_code_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Exit codes") :]
    for code in (*EXIT_CODES, 130):
        assert f"\n| {code} |" in table, code


def test_a_command_without_an_example_is_refused() -> None:
    with pytest.raises(TypeError, match="must end with 'Example: portal-crawler"):

        @click.command(cls=PortalCommand)
        def undocumented() -> None:
            """Does something."""


def test_the_entry_point_is_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"portal-crawler": "portal_crawler.cli:main"}
    for argv, code in ((["--version"], 0), ([], 2), (["nosuchcommand"], 2)):
        monkeypatch.setattr("sys.argv", ["portal-crawler", *argv])
        with pytest.raises(SystemExit) as ended:
            main()
        assert ended.value.code == code, argv
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("portal-crawler: give a command: browse, crawl, demo, diff, export")
    assert err[1] == "portal-crawler: No such command 'nosuchcommand'. (see 'portal-crawler --help')"


@pytest.mark.parametrize(
    "error, code, says",
    [
        (UsageProblem("bad profile"), 2, "bad profile"),
        (Failure("writer died"), 1, "writer died"),
        (ArchiveBusy("pid 7 holds it"), 75, "pid 7 holds it"),
        (OSError(errno.ENOSPC, "No space left on device", "/a/warc/x.warc.gz"), 1, "disk full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), 1, "quota"),
        (OSError(errno.EIO, "Input/output error", "/a/catalogue.db"), 1, "cannot use /a/catalogue.db"),
        (OSError(errno.EACCES, "Permission denied", "/a"), 2, "check the permissions"),
        (OSError(errno.EROFS, "Read-only file system", "/a"), 2, "read-only"),
        (OSError(errno.EADDRINUSE, "Address already in use"), 2, "give another --port"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (ZeroDivisionError("division by zero"), 1, "unexpected ZeroDivisionError: division by zero (a bug"),
    ],
)
def test_each_kind_of_error_has_its_code(error: BaseException, code: int, says: str) -> None:
    message, got = describe(error)
    assert got == code and says in message and "\n" not in message


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    (tmp_path / "archive").mkdir()
    Catalogue(tmp_path / "archive" / "catalogue.db").close()
    return tmp_path / "archive"


def fail_in_stats(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def broken(*args: object) -> None:
        raise error

    monkeypatch.setattr("portal_crawler.desk.stats.collect", broken)


def test_an_unexpected_error_is_one_line_without_traceback(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_in_stats(monkeypatch, ZeroDivisionError("division by zero"))
    monkeypatch.delenv("PORTAL_DEBUG", raising=False)
    result = CliRunner().invoke(cli, ["stats", "--archive", str(archive)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("portal-crawler: unexpected ZeroDivisionError") and result.stderr.count("\n") == 1
    assert "PORTAL_DEBUG=1" in result.stderr


def test_portal_debug_shows_the_traceback(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_in_stats(monkeypatch, OSError(errno.ENOSPC, "No space left on device", str(archive)))
    result = CliRunner().invoke(cli, ["stats", "--archive", str(archive)], env={"PORTAL_DEBUG": "1"})
    assert result.exit_code == 1 and "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"portal-crawler: cannot use {archive}: No space left on device")


def test_usage_errors_are_one_line_for_every_command() -> None:
    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--no-such-option"])
        assert result.exit_code == 2, name
        assert re.fullmatch(  # click may suggest a near option (wacz: "Did you mean '--description'?")
            rf"portal-crawler: No such option '--no-such-option'\.( Did you mean '--[a-z-]+'\?)?"
            rf" \(see 'portal-crawler {name} --help'\)\n",
            result.stderr,
        ), (name, result.stderr)
