"""The WACZ benchmark: packaging an archive against a plain copy of the same WARC bytes, and its peak memory.

    python -m bench.wacz_bench copy WARC_DIR OUTPUT      the baseline alone (one JSON line)
    python -m bench.wacz_bench [--articles N] [--memory N ...] [--pairs P]
                                                     crawl replicas of those sizes, then measure (as make bench does)

- throughput: `portal-crawler wacz` of the whole archive (every WARC file stored, indexed by
  cdxj-indexer with digest checks, pages.jsonl from the catalogue) versus a child process that
  copies the same WARC bytes into one file and fsyncs it, as the package is; rounds alternate
  copy, package; wacz_ratio = median over pairs of package MB/s / copy MB/s. A slice holding
  the same records (`--run 1`: every page read again for its requisites) is timed beside it.
- memory: peak RSS of `portal-crawler wacz` (whole, and `--run 1`) of the 2,000- and
  20,000-article archives bench/run.py's memory crawls make (`package_rss`): flat is the goal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def copy_warcs(warc_dir: Path, output: Path) -> dict[str, Any]:
    """The baseline: every *.warc.gz of the archive, in name order, into one file, fsynced."""
    started, size = time.monotonic(), 0
    with open(output, "wb") as out:
        for path in sorted(warc_dir.glob("*.warc.gz")):
            with open(path, "rb") as source:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return {"bytes": size, "seconds": round(time.monotonic() - started, 3)}


def _package_cmd(archive: Path, output: Path, *slice_args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "portal_crawler",
        "wacz",
        "--archive",
        str(archive),
        "--output",
        str(output),
        "--force",
        *slice_args,
    ]


def _one_round(archive: Path, work: Path, number: int) -> dict[str, Any]:
    from bench.run import LoadWatch, log, run_child

    with LoadWatch() as watch:
        copied = run_child(
            [sys.executable, "-m", "bench.wacz_bench", "copy", str(archive / "warc"), str(work / "copy.bin")]
        )
        foreign = watch.stop(copied.check("plain copy").cpu_s, f"wacz copy round {number}")
    with LoadWatch() as watch:
        packaged = run_child(_package_cmd(archive, work / "bench.wacz")).check("wacz")
        foreign += watch.stop(packaged.cpu_s, f"wacz round {number}")
    size = copied.last_json()["bytes"]
    row = {
        "round": number,
        "copy_s": round(copied.wall_s, 2),
        "wacz_s": round(packaged.wall_s, 2),
        "wacz_cpu_s": round(packaged.cpu_s, 2),
        "wacz_rss_mb": round(packaged.rss_mb, 1),
        "copy_mb_s": round(size / 1e6 / copied.wall_s, 1),
        "wacz_mb_s": round(size / 1e6 / packaged.wall_s, 1),
        "ratio": round(copied.wall_s / packaged.wall_s, 4),
        "foreign_cpu_s": round(foreign, 2),
        "summary": packaged.stdout.strip().splitlines()[-1],
    }
    log(
        f"  wacz round {number}: package {packaged.wall_s:.1f} s ({row['wacz_mb_s']} MB/s), plain copy"
        f" {copied.wall_s:.2f} s ({row['copy_mb_s']} MB/s) -> ratio {row['ratio']:.4f};"
        f" peak RSS {packaged.rss_mb:.0f} MB"
    )
    (work / "copy.bin").unlink(missing_ok=True)
    return row


def bench_wacz(archive: Path, work: Path, pairs: int = 2) -> dict[str, Any]:
    """Throughput of the whole-archive package against the plain copy, and a run slice of the same records."""
    from bench.run import log, run_child

    work.mkdir(parents=True, exist_ok=True)
    rounds = [_one_round(archive, work, number) for number in range(1, pairs + 1)]
    sliced = run_child(_package_cmd(archive, work / "slice.wacz", "--run", "1")).check("wacz --run 1")
    log(f"  wacz --run 1 (the same records as a slice): {sliced.wall_s:.1f} s, peak RSS {sliced.rss_mb:.0f} MB")
    size = sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz"))
    result = {
        "wacz_ratio": round(statistics.median(r["ratio"] for r in rounds), 4),
        "wacz_mb_s": round(statistics.median(r["wacz_mb_s"] for r in rounds), 1),
        "copy_mb_s": round(statistics.median(r["copy_mb_s"] for r in rounds), 1),
        "wacz_s": round(statistics.median(r["wacz_s"] for r in rounds), 2),
        "wacz_size_mb": round((work / "bench.wacz").stat().st_size / 1e6, 1),
        "warc_mb": round(size / 1e6, 1),
        "slice_run_1_s": round(sliced.wall_s, 2),
        "slice_run_1_rss_mb": round(sliced.rss_mb, 1),
        "rounds": rounds,
    }
    for name in ("bench.wacz", "slice.wacz"):
        (work / name).unlink(missing_ok=True)
    return result


def package_rss(articles: int, archive: Path, work: Path) -> dict[str, Any]:
    """Peak RSS of packaging one memory-bench archive, whole and as the run slice (called before it is removed)."""
    from bench.run import log, run_child

    output = work / f"memory-{articles}.wacz"
    whole = run_child(_package_cmd(archive, output)).check("wacz (memory)")
    sliced = run_child(_package_cmd(archive, output, "--run", "1")).check("wacz --run 1 (memory)")
    output.unlink(missing_ok=True)
    log(
        f"  wacz of {articles} articles: peak RSS {whole.rss_mb:.0f} MB whole ({whole.wall_s:.1f} s),"
        f" {sliced.rss_mb:.0f} MB as a run slice ({sliced.wall_s:.1f} s)"
    )
    return {
        "rss_mb": round(whole.rss_mb, 1),
        "wall_s": round(whole.wall_s, 1),
        "slice_rss_mb": round(sliced.rss_mb, 1),
        "slice_wall_s": round(sliced.wall_s, 1),
    }


def standalone(articles: int, memory: list[int], pairs: int) -> dict[str, Any]:
    """Crawl replicas of the sizes asked (bench/run.py's way), then measure: for running this benchmark alone."""
    from bench.run import ReplicaProcess, archiving_crawl, log

    work = Path(tempfile.mkdtemp(prefix="portal-wacz-bench-"))
    try:
        results: dict[str, Any] = {}
        for size in sorted({articles, *memory}):
            with ReplicaProcess(size) as replica:
                log(f"crawl of {size} articles ({replica.warm_line})")
                archiving_crawl(replica.listing_url, work / f"archive-{size}").check("crawl")
            if size == articles:
                results["wacz"] = bench_wacz(work / f"archive-{size}", work / "wacz", pairs)
            if size in memory:
                results[f"memory_{size}"] = package_rss(size, work / f"archive-{size}", work)
            shutil.rmtree(work / f"archive-{size}", ignore_errors=True)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["copy"] and len(args) == 3:
        print(json.dumps(copy_warcs(Path(args[1]), Path(args[2]))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.wacz_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000, help="archive for the throughput figure")
    parser.add_argument("--memory", type=int, nargs="*", default=[2_000, 20_000], help="archives for peak RSS")
    parser.add_argument("--pairs", type=int, default=2)
    options = parser.parse_args(args)
    print(json.dumps(standalone(options.articles, options.memory, options.pairs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
