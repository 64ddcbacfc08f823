"""The `portal-crawler` command: one click group over the commands of crawl.py, upkeep.py, desk.py and wacz.py.

Errors of every command become one line on stderr in one place, cli.errors.
"""

from __future__ import annotations

import click

from portal_crawler import __version__
from portal_crawler.cli import crawl, desk, upkeep, wacz
from portal_crawler.cli.errors import PROG, PortalGroup


@click.group(PROG, cls=PortalGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG)
def cli() -> None:
    """Archive the MPS English news portal as WARC captures with a SQLite catalogue."""


for _command in (*crawl.COMMANDS, *upkeep.COMMANDS, *desk.COMMANDS, *wacz.COMMANDS):
    cli.add_command(_command)


def main() -> None:
    """Entry point (`portal-crawler`, `python -m portal_crawler`): exits with the command's code."""
    cli(prog_name=PROG)
