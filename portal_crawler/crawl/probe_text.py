"""The probe's reports as text for a terminal: one block per page, one line per fact, sources in a column.

    article  http://127.0.0.1:8080/news-events/...-t9402.html
      found on    http://127.0.0.1:8080/news-and-events.html
      status      200
      template    legacy (revision 3f2a9c1b7d04)
      title       Communal police force - be people's firm support      selector
      paragraphs  12, first: Over the past years, the communal ...      selector
      verdict     ok

`--json` gives the same reports as data (`PageReport.as_json`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from portal_crawler.crawl.probe_reports import FieldReport, ListingReport, PageReport

LABEL = 12  # width of the label column
SOURCE = 12  # width kept for the source column
VERDICTS = ("ok", "drift", "blocked", "failed", "disallowed")


def render(reports: Sequence[PageReport], width: int = 100) -> str:
    """Every page's block, then one summary line (`4 pages: 3 ok, 1 drift`)."""
    blocks = ["\n".join(page_lines(report, width)) for report in reports]
    return "\n\n".join([*blocks, summary(reports)])


def summary(reports: Sequence[PageReport]) -> str:
    counts = Counter(report.verdict for report in reports)
    parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    return f"{len(reports)} page{'s' * (len(reports) != 1)}: {parts or 'none'}"


def page_lines(report: PageReport, width: int) -> list[str]:
    lines = [f"{report.kind}  {report.url}"]
    facts: list[tuple[str, str]] = []
    if report.found_on:
        facts.append(("found on", report.found_on))
    if report.status is not None:
        facts.append(("status", str(report.status)))
    if report.redirected_to:
        facts.append(("redirected", report.redirected_to))
    if report.wall:
        facts.append(("wall", report.wall))
    if report.read_as:
        if report.read_as != report.kind:
            facts.append(("read as", report.read_as))
        facts.append(("template", _template(report)))
    lines += [_line(label, value, width) for label, value in facts]
    if report.listing is not None:
        lines += _listing_lines(report, report.listing, width)
    for name, found in (report.fields or {}).items():
        lines.append(_line(name, _value(name, found), width, found.source))
    lines += [_line("json", leaf, width) for leaf in report.outline]
    lines += [_line("problem", problem, width) for problem in report.problems]
    lines.append(_line("verdict", report.verdict, width))
    return lines


def _template(report: PageReport) -> str:
    if report.template is None:
        return "none: generic fallback" if report.read_as == "article" else "none: every article link read"
    return f"{report.template} (revision {report.revision})" if report.revision else report.template


def _listing_lines(report: PageReport, listing: ListingReport, width: int) -> list[str]:
    lines = [_line("entries", f"{listing.entries} ({listing.dates} with a date)", width)]
    if report.template is not None:  # without a template, entries are every article link: none is unknown
        lines.append(_line("unknown", f"{len(listing.unknown_links)} entry links match no article pattern", width))
    return lines


def _value(name: str, found: FieldReport) -> str:
    if found.count is None:
        return found.value or "-"
    if name == "paragraphs" and found.value:
        return f"{found.count}, first: {found.value}"
    return str(found.count)


def _line(label: str, value: str, width: int, source: str | None = None) -> str:
    """A labelled line; a field's value is cut to leave room for its source, other facts are kept whole."""
    if source is None:
        return f"  {label:<{LABEL}}{' '.join(value.split())}"
    room = max(20, width - 2 - LABEL - SOURCE - 1)
    return f"  {label:<{LABEL}}{cut(value, room):<{room}} {source}"


def cut(text: str, room: int) -> str:
    """One line of at most `room` characters (an ellipsis where it was cut)."""
    line = " ".join(text.split())
    return line if len(line) <= room else line[: room - 1].rstrip() + "…"
