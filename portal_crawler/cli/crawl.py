"""Commands that fetch: `crawl` (the nightly job), `replica` (the test portal) and `demo` (both together)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from portal_crawler.cli.errors import PortalCommand, say
from portal_crawler.cli.options import (
    MAX_RECHECK_DAYS,
    MAX_WARC_SIZE,
    PORT,
    TEXT,
    Host,
    StartUrl,
    archive_option,
    count,
    ensure_archive,
    summary_option,
)
from portal_crawler.cli.overrides import overrides_callback
from portal_crawler.cli.serving import check_port
from portal_crawler.core.errors import (
    EXIT_BLOCKED,
    EXIT_BUSY,
    EXIT_DRIFT,
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    RunOutcome,
    UsageProblem,
)
from portal_crawler.replica.drift import VARIANTS as DRIFT_VARIANTS

CRAWL_EXITS = (EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_DRIFT, EXIT_BLOCKED, EXIT_BUSY)


@click.command(cls=PortalCommand, exit_codes=CRAWL_EXITS)
@archive_option
@click.option("--profile", type=TEXT, default="mps", show_default=True, help="Site profile name or TOML path.")
@click.option(
    "--start-url",
    "start_urls",
    type=StartUrl(),
    multiple=True,
    help="Start here instead of the profile's start URLs (repeatable).",
)
@click.option(
    "--source",
    type=click.Choice(["auto", "html", "api"]),
    default="auto",
    show_default=True,
    help="Read the HTML pages or the JSON API (auto: the API once the site serves app shells).",
)
@click.option("--api-base", type=StartUrl(), help="Ask the JSON API here (scheme://host[:port]) instead.")
@click.option("--full", is_flag=True, help="Walk every listing page and fetch every article.")
@click.option("--max-pages", type=count(), help="Stop after this many listing pages.")
@click.option(
    "--recheck-days",
    type=count(0, MAX_RECHECK_DAYS),
    help="Re-fetch articles published in the last D days (at most 36500).",
)
@click.option(
    "--fast", is_flag=True, envvar="PORTAL_FAST", help="Lift politeness limits (for the replica on loopback only)."
)
@click.option("--warc-max-size", type=count(1, MAX_WARC_SIZE), help="Rotate WARC files at this many bytes (1 GB).")
@summary_option
@click.option(
    "-s",
    "--set",
    "overrides",
    type=TEXT,
    multiple=True,
    metavar="NAME=VALUE",
    callback=overrides_callback,
    help="Override a Scrapy setting (repeatable); VALUE must fit the setting's type.",
)
@click.option("--wacz", is_flag=True, help="Then write the run's WACZ package: ARCHIVE/warc/MPS-run-N.wacz.")
def crawl(
    archive: Path,
    profile: str,
    start_urls: tuple[str, ...],
    warc_max_size: int | None,
    overrides: dict[str, Any],
    wacz: bool,
    summary: bool,
    **walk: Any,
) -> None:
    """One crawl run: incremental unless --full.

    Prints a one-line summary on a terminal or with --summary (under cron, a
    good run prints nothing); a run that is not ok prints one line on stderr
    with its cause (the first failed URL and why, the wall, the drift).

    Example: portal-crawler crawl --archive /srv/mps-archive --recheck-days 7
    """
    from portal_crawler.crawl.run import CrawlOptions, run_crawl
    from portal_crawler.extraction.profile import load_profile

    load_profile(profile)  # a bad profile is refused before the archive directory is made
    options = CrawlOptions(  # walk: source, api_base, full, max_pages, recheck_days, fast (CrawlOptions' names)
        archive=ensure_archive(archive),
        profile=profile,
        start_urls=list(start_urls),
        progress=sys.stderr.isatty(),
        **walk,
    )
    if warc_max_size:
        options.settings["PORTAL_WARC_MAX_SIZE"] = warc_max_size
    options.settings.update(overrides)
    result = run_crawl(options)
    if summary:
        click.echo(result.summary())
    _package_run(wacz, options.archive, result.run_id, summary)
    problem = result.problem_line()
    if problem:
        raise RunOutcome(problem, result.exit_code)
    sys.exit(result.exit_code)


def _package_run(wanted: bool, archive: Path, run_id: int, say: bool) -> None:
    """`crawl --wacz`: the run's WACZ package, written beside its WARC files once the run has ended."""
    if wanted:
        from portal_crawler.wacz.build import write_run_wacz

        written = write_run_wacz(archive, run_id)
        if say:  # like the summary: quiet off a terminal unless --summary (cron mails only trouble)
            click.echo(written)


@click.command(cls=PortalCommand, exit_codes=(EXIT_OK, EXIT_USAGE))
@click.option("--port", type=PORT, default=8080, show_default=True, help="0 picks a free port.")
@click.option("--host", type=Host(), default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--articles", type=count(0), default=200, show_default=True, help="Generated articles besides the seeds.")
@click.option(
    "--layout",
    type=click.Choice(["legacy", "current", "app"]),
    default="legacy",
    show_default=True,
    help="The portal as it was: legacy (2017-2024 pages), current (2025+ pages), app (2025+ shells over the JSON API).",
)
@click.option("--seed", type=count(0, 1 << 32), default=1, show_default=True, help="Seed of the article generator.")
@click.option("--drift", type=click.Choice(DRIFT_VARIANTS), default=None, help="Serve pages in altered markup.")
@click.option(
    "--challenge",
    "challenge_first",
    type=count(0),
    default=None,
    metavar="N",
    help="Answer the first N requests with a bot-wall challenge page, then serve normally.",
)
@click.option(
    "--challenge-kind",
    type=click.Choice(["incapsula", "cloudflare"]),
    default="incapsula",
    show_default=True,
    help="Which bot wall the challenge pages imitate.",
)
def replica(
    port: int,
    host: str,
    articles: int,
    layout: str,
    seed: int,
    drift: str | None,
    challenge_first: int | None,
    challenge_kind: str,
) -> None:
    """Serve the replica portal until stopped (Ctrl-C).

    Example: portal-crawler replica --port 8080 --articles 2000 --layout current
    """
    from portal_crawler.replica import ReplicaConfig, serve

    try:
        config = ReplicaConfig(
            articles=articles,
            layout=layout,
            seed=seed,
            host=host,
            port=port,
            drift=drift,
            challenge_first=challenge_first,
            challenge_kind=challenge_kind,
        )
    except ValueError as error:  # options that do not go together (e.g. --drift with --layout app)
        raise UsageProblem(f"replica: {error}") from None
    check_port(host, port)
    serve(config)


@click.command(cls=PortalCommand, exit_codes=CRAWL_EXITS)
@archive_option
@click.option(
    "--articles", type=count(0, 100_000), default=200, show_default=True, help="Generated articles besides the seeds."
)
def demo(archive: Path, articles: int) -> None:
    """Start the replica on a free port, crawl it, show where the archive is and three articles.

    Example: portal-crawler demo --archive demo-archive
    """
    from portal_crawler.cli.demo import run_demo

    sys.exit(run_demo(ensure_archive(archive), articles))


PROBE_EXITS = (EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_DRIFT, EXIT_BLOCKED)
MAX_PROBE_ARTICLES = 100


@click.command(cls=PortalCommand, exit_codes=PROBE_EXITS)
@click.argument("urls", nargs=-1, required=True, type=StartUrl(), metavar="URL [URL...]")
@click.option(
    "--articles",
    type=count(0, MAX_PROBE_ARTICLES),
    default=3,
    show_default=True,
    help="Also probe the first K articles of each listing page.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as one JSON list of pages.")
@click.option("--profile", type=TEXT, default="mps", show_default=True, help="Site profile name or TOML path.")
@click.option("--fast", is_flag=True, envvar="PORTAL_FAST", help="No delay between requests (replica on loopback).")
def probe(urls: tuple[str, ...], articles: int, as_json: bool, profile: str, fast: bool) -> None:
    """Fetch listing or article pages politely and show what the profile makes of them; writes nothing.

    Per page: its status, kind, wall, the template that matched (or none: fallback), for a listing its
    entries, dates and unknown links, for an article each field with its source (the selector, or
    which fallback), the problems and a verdict (ok, drift, blocked, failed, disallowed). Run it on the
    URL a drift alarm names; after fixing the profile, probe again, then `reindex`. Exit 0 when every
    page is ok, 4 when any page is a wall, else 3 when any page drifted, else 1 when one was not fetched.

    Example: portal-crawler probe https://en.mps.gov.vn/news.html --articles 3
    """
    from portal_crawler.crawl.fetcher import Politeness
    from portal_crawler.crawl.probe import exit_code, problem_lines
    from portal_crawler.crawl.probe import probe as run_probe
    from portal_crawler.crawl.probe_text import render
    from portal_crawler.extraction.profile import load_profile

    site = load_profile(profile)
    reports = run_probe(urls, site, articles=articles, politeness=Politeness.from_settings(fast=fast))
    if as_json:
        click.echo(json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=2))
    else:
        click.echo(render(reports, shutil.get_terminal_size((100, 24)).columns))
    lines, code = problem_lines(reports, site), exit_code(reports)
    for line in lines[:-1]:
        say(line)
    if lines:
        raise RunOutcome(lines[-1], code)
    sys.exit(code)


COMMANDS = (crawl, replica, demo, probe)
