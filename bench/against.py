"""This tree against an earlier release, measured at the same moment on the same inputs.

    python -m bench.against [--ref 1a1439a] [--rounds 3] [--articles 10000]     (make bench-against)

Issue 10 asks that `make bench` be no worse than 0.1.0's README. Two things keep a
bench run from answering that alone: this machine's speed swings by 10-25 % from one
hour to the next, and `reindex_ratio`'s baseline (warcio reading the same files) got
twice as fast when the WARC stopped deflating compressed entities a second time, so
the ratio fell while reindex did not slow. Here the release's code (a git worktree of
`--ref`, run with this tree's virtualenv) and this tree's run the same commands on the
same inputs, alternating which goes first, and each figure is given as release /
this (above 1: this tree is faster):

- reindex: `portal-crawler reindex` of the same WARC files (this tree's crawl of the
  replica), wall seconds;
- search: p50 and p95 of 200 queries (bench.search_bench's) over the same synthetic
  catalogue, each tree's `search()` (bench/against_search.py);
- nothing new: an incremental crawl of each tree's own archive (its own full crawl of
  the same replica first), wall seconds and requests.

Prints a table and writes bench/results/against-REF.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench import search_bench
from bench.run import PY, RESULTS, ROOT, Child, ReplicaProcess, log, run_child

RELEASE_010 = "1a1439a"  # the commit of 0.1.0's README figures (issue 10)
SEARCH_ARTICLES = 50_000
T = TypeVar("T")


def worktree(ref: str, where: Path) -> Path:
    """A detached checkout of `ref` (removed by the caller with `drop_worktree`)."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref], check=True, capture_output=True
    )
    return where


def drop_worktree(where: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], capture_output=True)


def alternate(rounds: int, trees: dict[str, Path], measure: Callable[[str, Path], T]) -> dict[str, list[T]]:
    """`measure` each tree `rounds` times, the first tree going first in odd rounds and second in even ones."""
    got: dict[str, list[T]] = {name: [] for name in trees}
    names = list(trees)
    for number in range(rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            got[name].append(measure(name, trees[name]))
    return got


def crawl(tree: Path, url: str, archive: Path, full: bool) -> Child:
    """bench.run.archiving_crawl without `--summary`, which 0.1.0's crawl does not know."""
    cmd = [PY, "-m", "portal_crawler", "crawl", "--fast", "--start-url", url, "--archive", str(archive)]
    return run_child(cmd + (["--full"] if full else []), tree=tree).check(f"crawl in {tree}")


def bench_reindex(trees: dict[str, Path], warc: Path, work: Path, rounds: int) -> dict[str, list[float]]:
    def measure(name: str, tree: Path) -> float:
        archive = work / f"reindex-{name}"
        shutil.rmtree(archive, ignore_errors=True)
        (archive / "warc").mkdir(parents=True)
        for path in warc.glob("*.warc.gz"):
            os.link(path, archive / "warc" / path.name)
        child = run_child([PY, "-m", "portal_crawler", "reindex", "--archive", str(archive)], tree=tree)
        log(f"  reindex, {name}: {child.check(f'reindex in {tree}').wall_s:.2f} s")
        return child.wall_s

    return alternate(rounds, trees, measure)


def bench_search(trees: dict[str, Path], work: Path, rounds: int, articles: int) -> dict[str, list[dict[str, float]]]:
    catalogue = work / "search" / "catalogue.db"
    catalogue.parent.mkdir(parents=True)
    maker = search_bench.build(catalogue, articles)
    queries = work / "search" / "queries.json"
    queries.write_text(json.dumps(search_bench.make_queries(maker, 200)))
    copies = {name: work / "search" / f"{name}.db" for name in trees}  # neither tree sees the other's writes
    for copy in copies.values():
        shutil.copyfile(catalogue, copy)

    def measure(name: str, tree: Path) -> dict[str, float]:
        child = run_child([PY, str(ROOT / "bench" / "against_search.py"), str(copies[name]), str(queries)], tree=tree)
        result = child.check(f"search in {tree}").last_json()
        log(f"  search, {name}: p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms")
        return result

    return alternate(rounds, trees, measure)


def bench_nothing_new(
    trees: dict[str, Path], replica: ReplicaProcess, work: Path, rounds: int
) -> dict[str, list[tuple[float, int]]]:
    def measure(name: str, tree: Path) -> tuple[float, int]:
        replica.reset()
        child = crawl(tree, replica.listing_url, work / f"archive-{name}", full=False)
        requests = sum(replica.counts().values())
        log(f"  nothing new, {name}: {requests} requests in {child.wall_s:.2f} s")
        return child.wall_s, requests

    return alternate(rounds, trees, measure)


def compare(ref: str, rounds: int, articles: int, search_articles: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="portal-against-") as tmp:
        work = Path(tmp)
        trees = {"release": worktree(ref, work / "release"), "this": ROOT}
        try:
            with ReplicaProcess(articles) as replica:
                log(f"replica with {articles} articles at {replica.listing_url}; a full crawl by each tree")
                for name, tree in trees.items():
                    replica.reset()
                    child = crawl(tree, replica.listing_url, work / f"archive-{name}", full=True)
                    log(f"  full crawl, {name}: {sum(replica.counts().values())} requests in {child.wall_s:.1f} s")
                log("nothing new: an incremental crawl of each tree's own archive")
                nothing_new = bench_nothing_new(trees, replica, work, rounds)
            log("reindex of the same WARC files (this tree's crawl)")
            reindex = bench_reindex(trees, work / "archive-this" / "warc", work, rounds)
            log(f"search over the same {search_articles}-article catalogue")
            search = bench_search(trees, work, rounds, search_articles)
        finally:
            drop_worktree(trees["release"])
    return summarise(ref, rounds, articles, reindex, search, nothing_new)


def summarise(
    ref: str,
    rounds: int,
    articles: int,
    reindex: dict[str, list[float]],
    search: dict[str, list[dict[str, float]]],
    nothing_new: dict[str, list[tuple[float, int]]],
) -> dict[str, Any]:
    def row(key: str, release: list[float], this: list[float], places: int = 2) -> dict[str, Any]:
        ours, theirs = statistics.median(this), statistics.median(release)
        return {
            "figure": key,
            "release": [round(v, places) for v in release],
            "this": [round(v, places) for v in this],
            "release_median": round(theirs, places),
            "this_median": round(ours, places),
            "release_over_this": round(theirs / ours, 3),
        }

    rows = [
        row("reindex_s", reindex["release"], reindex["this"]),
        row("search_p50_ms", [r["p50_ms"] for r in search["release"]], [r["p50_ms"] for r in search["this"]]),
        row("search_p95_ms", [r["p95_ms"] for r in search["release"]], [r["p95_ms"] for r in search["this"]]),
        row("nothing_new_s", [w for w, _ in nothing_new["release"]], [w for w, _ in nothing_new["this"]]),
        row(
            "nothing_new_requests",
            [float(n) for _, n in nothing_new["release"]],
            [float(n) for _, n in nothing_new["this"]],
            0,
        ),
    ]
    return {"ref": ref, "rounds": rounds, "articles": articles, "rows": rows}


def table(result: dict[str, Any]) -> str:
    lines = [
        f"this tree against {result['ref']}, {result['rounds']} alternating rounds, "
        f"{result['articles']:,}-article replica (release / this: above 1, this tree is faster)",
        f"{'figure':22} {'release':>28} {'this':>28} {'release/this':>13}",
    ]
    for row in result["rows"]:
        release = ", ".join(str(v) for v in row["release"])
        this = ", ".join(str(v) for v in row["this"])
        lines.append(f"{row['figure']:22} {release:>28} {this:>28} {row['release_over_this']:>13}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.against", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ref", default=RELEASE_010, help=f"the release to compare with (default {RELEASE_010}, 0.1.0)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each figure per tree (default 3)")
    parser.add_argument("--articles", type=int, default=10_000, help="articles in the replica (default 10,000)")
    parser.add_argument("--search-articles", type=int, default=SEARCH_ARTICLES, help="articles in the search catalogue")
    args = parser.parse_args(argv)
    result = compare(args.ref, args.rounds, args.articles, args.search_articles)
    print(table(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"against-{args.ref}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
