"""What the archive holds: articles per year and month, the gaps, runs, WARC bytes, extraction quality.

`collect()` gathers the figures (plain data, JSON-ready); `render()` draws them
for a terminal of a given width, with bars of Unicode eighth blocks.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from portal_crawler.catalogue import Catalogue

BLOCKS = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True)
class Gap:
    """Consecutive months with no article, between the first and the last dated month."""

    first: str
    last: str
    months: int
    before: int  # articles in the month before the gap
    after: int  # articles in the month after it
    suspicious: bool  # both neighbours busy: more likely a crawl problem than a quiet month


@dataclass
class Stats:
    articles: int
    undated: int
    gone: int
    per_year: dict[str, int]
    per_month: dict[str, int]  # every month from first to last, zeros included
    gaps: list[Gap]
    quality: dict[str, int]
    runs: dict[str, Any]
    warc_bytes_on_disk: int
    warc_files: int
    warc_bytes_from_runs: int
    captures: int = 0
    versions: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect(catalogue: Catalogue, warc_dir: Path) -> Stats:
    conn = catalogue.conn
    counted = dict(
        conn.execute(
            "SELECT substr(published, 1, 7), count(*) FROM articles"
            " WHERE published GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' GROUP BY 1 ORDER BY 1"
        )
    )
    per_month = _every_month(counted)
    per_year: dict[str, int] = {}
    for month, count in per_month.items():
        per_year[month[:4]] = per_year.get(month[:4], 0) + count
    one = _scalar(catalogue)
    warc_files = sorted(warc_dir.glob("*.warc.gz")) if warc_dir.is_dir() else []
    return Stats(
        articles=one("SELECT count(*) FROM articles"),
        undated=one("SELECT count(*) FROM articles") - sum(counted.values()),
        gone=one("SELECT count(*) FROM articles WHERE gone_since IS NOT NULL"),
        per_year=per_year,
        per_month=per_month,
        gaps=find_gaps(per_month),
        quality=dict(
            conn.execute("SELECT coalesce(quality, 'unknown'), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC")
        ),
        runs=_runs(catalogue),
        warc_bytes_on_disk=sum(p.stat().st_size for p in warc_files),
        warc_files=len(warc_files),
        warc_bytes_from_runs=one("SELECT sum(warc_bytes) FROM runs"),
        captures=one("SELECT count(*) FROM captures"),
        versions=one("SELECT count(*) FROM versions"),
        failures=_failures(catalogue),
    )


def _scalar(catalogue: Catalogue) -> Callable[[str], int]:
    return lambda sql: catalogue.conn.execute(sql).fetchone()[0] or 0


def _every_month(counted: dict[str, int]) -> dict[str, int]:
    if not counted:
        return {}
    months = list(counted)
    year, month = int(months[0][:4]), int(months[0][5:7])
    out: dict[str, int] = {}
    while (key := f"{year:04d}-{month:02d}") <= months[-1]:
        out[key] = counted.get(key, 0)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def find_gaps(per_month: dict[str, int]) -> list[Gap]:
    """Runs of empty months; suspicious when both neighbours hold at least half the median busy month."""
    months = list(per_month)
    busy = [n for n in per_month.values() if n]
    threshold = max(1.0, statistics.median(busy) / 2) if busy else 1.0
    gaps, i = [], 0
    while i < len(months):
        if per_month[months[i]]:
            i += 1
            continue
        j = i
        while per_month[months[j + 1]] == 0:  # the last month is never empty
            j += 1
        before, after = per_month[months[i - 1]], per_month[months[j + 1]]
        gaps.append(Gap(months[i], months[j], j - i + 1, before, after, min(before, after) >= threshold))
        i = j + 1
    return gaps


def _runs(catalogue: Catalogue) -> dict[str, Any]:
    conn = catalogue.conn
    by_status = dict(conn.execute("SELECT status, count(*) FROM runs GROUP BY status ORDER BY 2 DESC"))
    has_quality = "quality" in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}  # an older, read-only file
    extra = ", quality, alarms" if has_quality else ""
    cursor = conn.execute(
        "SELECT id, started, finished, status, mode, requests, responses, articles_new,"
        f" articles_updated, articles_unchanged, errors, warc_bytes{extra} FROM runs ORDER BY id DESC LIMIT 1"
    )
    row = cursor.fetchone()
    last = dict(zip([d[0] for d in cursor.description], row, strict=True)) if row else None
    if last is not None:
        last["quality"] = json.loads(last.get("quality") or "{}")
        last["alarms"] = json.loads(last.get("alarms") or "[]")
    drifted = _drifted(catalogue) if has_quality else []
    return {"count": sum(by_status.values()), "by_status": by_status, "last": last, "drifted": drifted}


def _drifted(catalogue: Catalogue, limit: int = 5) -> list[dict[str, Any]]:
    """The latest runs whose drift alarm went off, with what drifted."""
    cursor = catalogue.conn.execute(
        "SELECT id, started, alarms FROM runs WHERE alarms IS NOT NULL ORDER BY id DESC LIMIT ?", (limit,)
    )
    return [{"id": i, "started": s, "alarms": json.loads(a)} for i, s, a in cursor]


def _failures(catalogue: Catalogue, limit: int = 5) -> list[dict[str, Any]]:
    """The latest runs that did not end well: not 'ok', not rebuilt by reindex, not the run going on now.

    A 'running' run that is not the last one died (archives from before runs
    killed were closed as failed by the next run).
    """
    cursor = catalogue.conn.execute(
        "SELECT id, started, status, errors, error_summary FROM runs WHERE status NOT IN ('ok', 'reindexed')"
        " AND (status != 'running' OR id < (SELECT max(id) FROM runs)) ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor]


def bar(value: int, largest: int, width: int) -> str:
    """A bar of `width` cells at most, in eighths of a cell."""
    eighths = round(value / largest * width * 8) if largest else 0
    if value and not eighths:
        eighths = 1
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


def chart(counts: dict[str, int], width: int, flags: dict[str, str] | None = None) -> list[str]:
    """One line per key: label, count, bar scaled so the largest fills the terminal."""
    if not counts:
        return ["  (no dated articles)"]
    flags = flags or {}
    label, digits = max(map(len, counts)), len(str(max(counts.values())))
    room = max(10, width - label - digits - 8)
    largest = max(counts.values())
    return [
        f"  {key:<{label}} {count:>{digits}} {bar(count, largest, room)}{flags.get(key, '')}".rstrip()
        for key, count in counts.items()
    ]


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


def render(stats: Stats, width: int = 80) -> str:
    """The figures for a terminal `width` columns wide."""
    lines = [
        f"articles: {stats.articles} ({stats.undated} undated, {stats.gone} gone from the portal),"
        f" {stats.versions} versions, {stats.captures} captures",
        "",
        "per year:",
    ]
    lines += chart(stats.per_year, width)
    flags = {}
    for gap in stats.gaps:
        flags[gap.first] = "  <- gap, busy neighbours" if gap.suspicious else "  <- gap"
    lines += ["", "per month:", *chart(stats.per_month, width, flags)]
    lines += ["", f"gaps: {len(stats.gaps)} ({sum(g.suspicious for g in stats.gaps)} between busy months)"]
    for gap in stats.gaps:
        span = gap.first if gap.months == 1 else f"{gap.first} to {gap.last}"
        mark = "!! " if gap.suspicious else "   "
        lines.append(f"  {mark}{span}: {gap.months} month(s) without articles ({gap.before} before, {gap.after} after)")
    lines += ["", "quality: " + (", ".join(f"{k} {v}" for k, v in stats.quality.items()) or "no articles")]
    lines += [
        "",
        *_run_lines(stats),
        "",
        f"WARC: {_size(stats.warc_bytes_on_disk)} on disk in {stats.warc_files} files,"
        f" {_size(stats.warc_bytes_from_runs)} written by runs",
    ]
    return "\n".join(lines)


def _run_lines(stats: Stats) -> list[str]:
    runs, last = stats.runs, stats.runs["last"]
    lines = [f"runs: {runs['count']} (" + (", ".join(f"{k} {v}" for k, v in runs["by_status"].items()) or "none") + ")"]
    if last:
        lines.append(
            f"  last: run {last['id']} {last['mode']} {last['status']}, started {last['started']}:"
            f" {last['requests']} requests, {last['articles_new']} new, {last['articles_updated']} updated,"
            f" {last['articles_unchanged']} unchanged, {last['errors']} errors"
        )
    if last and last.get("quality"):
        lines.append(f"  quality of run {last['id']}: {_quality_line(last['quality'])}")
    for run in runs.get("drifted", []):
        lines.append(f"  drift: run {run['id']}, started {run['started']}: {'; '.join(run['alarms'])}")
    for failure in stats.failures:
        summary = f": {failure['error_summary']}" if failure.get("error_summary") else ""
        lines.append(
            f"  failed: run {failure['id']} {failure['status']}, started {failure['started']},"
            f" {failure['errors']} errors{summary}"
        )
    return lines


def _quality_line(quality: dict[str, Any]) -> str:
    """`10 ok, 1 partial, 1 fallback; not from the selector: published 2 (htmldate 2)`."""
    made = quality.get("articles") or {}
    line = ", ".join(f"{made.get(q, 0)} {q}" for q in ("ok", "partial", "fallback"))
    degraded = []
    for name, counts in (quality.get("fields") or {}).items():
        if counts.get("degraded"):
            sources = ", ".join(f"{k} {v}" for k, v in counts["sources"].items() if k != "selector")
            degraded.append(f"{name} {counts['degraded']} ({sources})")
    return line + ("; not from the selector: " + ", ".join(degraded) if degraded else "")
