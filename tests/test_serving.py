"""The serving commands' shared checks (a port in use, the line that says so) and the operators' option help."""

from __future__ import annotations

import errno
import socket

import click
import pytest

from portal_crawler.cli import cli
from portal_crawler.cli.serving import cannot_listen, check_port, require_extra
from portal_crawler.core.errors import UsageProblem
from portal_crawler.crawl.progress import ProgressLine, progress_text

OPERATOR_COMMANDS = ("crawl", "replica", "demo", "probe", "verify", "reindex", "replay", "browse")


@pytest.mark.parametrize("name", OPERATOR_COMMANDS)
def test_every_option_of_the_operators_commands_has_help(name: str) -> None:
    command = cli.commands[name]
    bare = [p.opts[0] for p in command.params if isinstance(p, click.Option) and not p.help]
    assert bare == [], f"{name}: options without a help text"


def test_a_port_with_a_listener_is_refused_in_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageProblem) as refused:
            check_port("127.0.0.1", port)
    assert str(refused.value) == f"cannot listen on 127.0.0.1:{port}: Address already in use: give another --port"
    assert refused.value.exit_code == 2


def test_a_free_port_and_port_zero_pass() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    check_port("127.0.0.1", free)  # closed again: free (SO_REUSEADDR, as the servers bind)
    check_port("127.0.0.1", 0)


def test_an_address_not_of_this_machine_names_the_host() -> None:
    line = str(cannot_listen("192.0.2.1", 8080, OSError(errno.EADDRNOTAVAIL, "gevent's own wording")))
    assert line == (
        "cannot listen on 192.0.2.1:8080: Cannot assign requested address: give an address of this machine as --host"
    )


def test_an_installed_extra_passes_and_a_missing_one_names_the_install() -> None:
    require_extra("replay", "replay", "json")
    with pytest.raises(UsageProblem) as refused:
        require_extra("replay", "replay", "json", "no_such_module_here")
    assert str(refused.value) == "replay needs no_such_module_here: pip install 'portal-crawler[replay]'"


@pytest.mark.parametrize("columns", [80, 40, 20, 2, 1])
def test_the_progress_line_fits_the_terminal(columns: int) -> None:
    line = progress_text(123456, 7890, 712.345, 12, columns)
    assert 1 <= len(line) <= max(columns - 1, 1)
    assert progress_text(1, 2, 3.0, 4, 200) == "1 pages, 2 articles, 3.0 pages/s, 4 errors "
    assert "123456 pages, 7890 articles".startswith(line) or line.startswith("123456 pages, 7890 articles")


def test_the_progress_line_is_cut_to_the_terminal_it_is_shown_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scrapy.utils.test import get_crawler

    crawler = get_crawler()
    crawler.stats.set_value("downloader/response_count", 123456)
    monkeypatch.setenv("COLUMNS", "12")  # shutil.get_terminal_size reads it first
    ProgressLine(crawler).show()
    assert capsys.readouterr().err == "\r123456 page"
