"""Where the archiving crawl's time goes, per response.

    python -m bench.profile_crawl [--articles 2000] [--mode timers|cprofile]

Runs one full archiving crawl in this process (portal_crawler.crawl.run.run_crawl, the
same code path as `portal-crawler crawl --full --fast`) against a pre-rendered
replica in its own process (bench/replica_server.py).

- `timers` (default): wraps the crawl's own hot functions with perf_counter
  timers (monkeypatched here, nothing in portal_crawler is edited) and reports
  inclusive milliseconds per call and per response. Low overhead: the figures
  are close to an unprofiled run's.
- `cprofile`: the same crawl under cProfile; writes
  bench/results/profile-crawl.pstats and prints the top functions by own time
  and the cumulative time of the same hot functions. cProfile inflates
  Python-heavy code, so read its shares next to the timers' figures.

Writes bench/results/profile-<mode>.json. The writer process's stages (WARC records,
parsing, extraction, SQLite, commits) are bench/profile_writer.py's: it records one
crawl's messages and replays them into a writer session with a timer on each stage.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import pstats
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.run import RESULTS, ReplicaProcess

# (label, module path, attribute path): the hot functions of the crawl process. WARC writing,
# extraction and cataloguing run in the writer process (portal_crawler.writer) and are not timed here.
HOT = [
    ("hand-off: ArchiveRun.capture (exchange, pickle, pipe)", "portal_crawler.crawl.archive_run", "ArchiveRun.capture"),
    ("  exchange_from_scrapy", "portal_crawler.crawl.archive_run", "exchange_from_scrapy"),
    ("  FramePipe.send (write into the pipe)", "portal_crawler.writer.pipes", "FramePipe.send"),
    ("listing: parse_listing", "portal_crawler.spiders.portal", "PortalSpider.parse_listing"),
    ("  listing_entries", "portal_crawler.spiders.portal", "listing_entries"),
    ("article page: parse_article", "portal_crawler.spiders.requisites", "PageRequisites.parse_article"),
    (
        "  requisite_urls (img/css/js links; the writer's with an archive)",
        "portal_crawler.spiders.base",
        "requisite_urls",
    ),
    ("requisites the writer answered", "portal_crawler.spiders.requisites", "PageRequisites.requisites_answered"),
    ("  catalogue.captured (requisites seen?)", "portal_crawler.catalogue", "Catalogue.captured"),
]
TOP_LEVEL = [h[0] for h in HOT if not h[0].startswith(" ")]


def _resolve(module: str, path: str) -> tuple[Any, str]:
    owner: Any = sys.modules.get(module) or __import__(module, fromlist=["_"])
    parts = path.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    return owner, parts[-1]


def install_timers(hot: list[tuple[str, str, str]] = HOT) -> dict[str, list[float]]:
    """Wrap each hot function with a perf_counter timer; returns label -> [calls, seconds].

    `hot` is (label, module, attribute path); bench/profile_writer.py passes the writer's."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for label, module, path in hot:
        try:
            owner, name = _resolve(module, path)
            original: Callable[..., Any] = getattr(owner, name)
        except (AttributeError, ImportError):  # not in this tree (two trees compared): its row stays empty
            continue
        if getattr(original, "__wrapped_timer__", False):
            continue

        def make(func: Callable[..., Any], key: str, generator: bool) -> Callable[..., Any]:
            if generator:

                @functools.wraps(func)
                def timed_gen(*args: Any, **kwargs: Any) -> Any:
                    record = totals[key]
                    record[0] += 1
                    iterator = func(*args, **kwargs)
                    while True:
                        started = time.perf_counter()
                        try:
                            value = next(iterator)
                        except StopIteration:
                            record[1] += time.perf_counter() - started
                            return
                        record[1] += time.perf_counter() - started
                        yield value

                return timed_gen

            @functools.wraps(func)
            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return func(*args, **kwargs)
                finally:
                    record = totals[key]
                    record[0] += 1
                    record[1] += time.perf_counter() - started

            return timed

        import inspect

        wrapped = make(original, label, inspect.isgeneratorfunction(original))
        wrapped.__wrapped_timer__ = True  # type: ignore[attr-defined]
        setattr(owner, name, wrapped)
    return totals


def crawl(url: str, archive: Path) -> tuple[float, float, Any]:
    from portal_crawler.crawl.run import CrawlOptions, run_crawl

    cpu0 = time.process_time()
    wall0 = time.monotonic()
    result = run_crawl(CrawlOptions(archive=archive, start_urls=[url], full=True, fast=True))
    return time.monotonic() - wall0, time.process_time() - cpu0, result


def report_timers(
    totals: dict[str, list[float]], wall: float, cpu: float, responses: int, articles: int
) -> dict[str, Any]:
    rows = []
    print(
        f"\n{responses} responses ({articles} articles) in {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"= {1000 * cpu / responses:.2f} ms CPU per response\n"
    )
    print(f"{'where (inclusive)':58} {'calls':>7} {'ms/call':>8} {'ms/resp':>8} {'% CPU':>6}")
    for label, _, _ in HOT:
        calls, seconds = totals.get(label, [0, 0.0])
        row = {
            "label": label.strip(),
            "calls": int(calls),
            "seconds": round(seconds, 3),
            "ms_per_call": round(1000 * seconds / calls, 4) if calls else None,
            "ms_per_response": round(1000 * seconds / responses, 4),
            "pct_cpu": round(100 * seconds / cpu, 1),
        }
        rows.append(row)
        print(
            f"{label:58} {int(calls):>7} {row['ms_per_call'] or 0:>8.3f} {row['ms_per_response']:>8.3f} "
            f"{row['pct_cpu']:>6.1f}"
        )
    ours = sum(totals.get(label, [0, 0.0])[1] for label in TOP_LEVEL)
    rest = cpu - ours
    print(
        f"{'everything else (Scrapy, Twisted, lxml parse, logging)':58} {'':>7} {'':>8} "
        f"{1000 * rest / responses:>8.3f} {100 * rest / cpu:>6.1f}"
    )
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "responses": responses,
        "articles": articles,
        "cpu_ms_per_response": round(1000 * cpu / responses, 3),
        "rows": rows,
        "ours_s": round(ours, 3),
        "rest_s": round(rest, 3),
        "rest_ms_per_response": round(1000 * rest / responses, 3),
    }


def report_cprofile(profile: cProfile.Profile, responses: int) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "profile-crawl.pstats"
    profile.dump_stats(path)
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("tottime").print_stats(35)
    print(stream.getvalue())
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("cumulative").print_stats(r"portal_crawler|warcio|sqlite3|zlib|gzip|hashlib|parsel|lxml", 40)
    print(stream.getvalue())
    # Own time grouped by package, per response.
    groups: dict[str, float] = defaultdict(float)
    for (filename, _, func), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "portal_crawler" in filename:
            key = "portal_crawler"
        elif "/warcio/" in filename:
            key = "warcio"
        elif "/scrapy/" in filename:
            key = "scrapy"
        elif "/twisted/" in filename:
            key = "twisted"
        elif "/parsel/" in filename or "/lxml/" in filename or "cssselect" in filename or "w3lib" in filename:
            key = "parsel/lxml/w3lib"
        elif "sqlite_utils" in filename or (filename == "~" and "sqlite3" in func):
            key = "sqlite"
        elif filename == "~":
            key = "builtins: " + func.split(" ")[-1].strip(">'")[:40]
        else:
            key = "stdlib/other: " + Path(filename).name
        groups[key] += tottime
    top = sorted(groups.items(), key=lambda kv: -kv[1])[:25]
    total = sum(groups.values())
    print(f"own time by package (cProfile, {total:.1f} s in all):")
    for key, seconds in top:
        print(f"  {key:60} {seconds:7.2f} s  {1000 * seconds / responses:7.3f} ms/resp  {100 * seconds / total:5.1f} %")
    return {"pstats": str(path), "total_s": round(total, 2), "own_time_by_group": {k: round(v, 3) for k, v in top}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_crawl")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--mode", choices=("timers", "cprofile"), default="timers")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="portal-profile-"))
    try:
        with ReplicaProcess(args.articles) as replica:
            replica.reset()
            totals = install_timers() if args.mode == "timers" else None
            profile = cProfile.Profile() if args.mode == "cprofile" else None
            if profile:
                profile.enable()
            wall, cpu, result = crawl(replica.listing_url, work / "archive")
            if profile:
                profile.disable()
            responses = sum(replica.counts().values())
        print(result.summary())
        out: dict[str, Any] = {
            "mode": args.mode,
            "articles": args.articles,
            "summary": result.summary(),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        if totals is not None:
            out.update(report_timers(totals, wall, cpu, responses, result.counts.get("articles_new", 0)))
        if profile is not None:
            out.update({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "responses": responses})
            out.update(report_cprofile(profile, responses))
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"profile-{args.mode}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
