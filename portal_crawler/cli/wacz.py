"""`portal-crawler wacz`: package the archive (or a slice) as one WACZ file, or check one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal_crawler.cli.errors import PortalCommand, say
from portal_crawler.cli.options import TEXT, archive_option, count, existing_archive
from portal_crawler.core.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageProblem


@click.command(cls=PortalCommand, exit_codes=(EXIT_OK, EXIT_ERRORS, EXIT_USAGE))
@archive_option
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="The WACZ file to write (FILE.wacz).")
@click.option("--since", type=TEXT, metavar="DATE", help="Only articles published on or after DATE (YYYY-MM-DD).")
@click.option("--until", type=TEXT, metavar="DATE", help="Only articles published on or before DATE (YYYY-MM-DD).")
@click.option("--run", "run_id", type=count(), metavar="N", help="Only what run N captured (see `stats` for runs).")
@click.option("--title", type=TEXT, help="The package's title (datapackage.json).")
@click.option("--description", type=TEXT, help="The package's description (Markdown or plain text).")
@click.option("--force", is_flag=True, help="Replace FILE when it exists.")
@click.option(
    "--verify",
    "verify_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.wacz",
    help="Check FILE instead: every resource's hash and size, the digest file, every index line's record.",
)
def wacz(
    archive: Path,
    output: Path | None,
    since: str | None,
    until: str | None,
    run_id: int | None,
    title: str | None,
    description: str | None,
    force: bool,
    verify_file: Path | None,
) -> None:
    """Write a WACZ 1.1.1 package of the archive, or of its articles published in a date range, or of one run.

    The package holds the WARC records (a slice: just its records, with the
    page requisites and the originals its revisits refer to, copied byte for
    byte), a CDXJ index, pages/pages.jsonl with every article's title and
    text, and datapackage.json. Open it in ReplayWeb.page, or with
    `portal-crawler replay --wacz FILE`. It is written under a temporary name
    and renamed when complete. --verify checks a package instead (exit 1 on
    any problem, one line each).

    Example: portal-crawler wacz --since 2024-01-01 --until 2024-12-31 --output mps-2024.wacz
    """
    if verify_file is not None:
        _verify(verify_file, given=output is not None or since or until or run_id or title or description or force)
        return
    if output is None:
        raise UsageProblem("give --output FILE.wacz (or --verify FILE.wacz to check a package)")
    from portal_crawler.wacz.build import WaczRequest, write_wacz
    from portal_crawler.wacz.layout import SliceSpec

    request = WaczRequest(output, SliceSpec(since, until, run_id), title, description, force)
    click.echo(write_wacz(existing_archive(archive), request).line())


def _verify(path: Path, given: object) -> None:
    from portal_crawler.wacz.verify import verify_wacz

    if given:
        raise UsageProblem("--verify checks a package: give it alone (no --output, --since, --until, --run, --title)")
    report = verify_wacz(path)
    for problem in report.problems:
        say(problem)
    click.echo(report.line())
    sys.exit(EXIT_OK if report.ok else EXIT_ERRORS)


COMMANDS = (wacz,)
