"""Benchmarks of portal-crawler, each figure a ratio against a baseline measured in the same run.

    python -m bench.run [--quick] [--keep]      (make bench / make bench-quick)

Every benchmark runs as whole processes (`python -m portal_crawler ...` against a
replica portal in its own process); each child's CPU seconds and peak RSS come
from `os.wait4` (that child's own rusage, not the sum of all children).

- crawl: full crawl with archiving (`crawl --full --fast`) versus bare Scrapy
  making the same requests (bench/bare_spider.py), rounds alternating A B A B;
  crawl_ratio = median over pairs of archiving pages/s / bare pages/s.
- memory: peak RSS of the archiving crawl at 2,000 and 20,000 articles.
- incremental: a second, incremental run over the crawl's archive with nothing
  new: requests made (replica counts) and wall time.
- reindex: `portal-crawler reindex` of that archive versus a plain warcio loop
  over the same files (bench/raw_read.py), three alternating rounds;
  reindex_ratio = the median of raw s / reindex s.
  The same loop with FastWARC (reindex's reader) is reported beside it.
- search: bench/search_bench.py when it exists (p50/p95 latency).
- crawl, one core: two more pairs with both crawls pinned to CPU 0 (the writer
  process inherits the pin): crawl_ratio_1core, the median of the pairs. crawl_cpu_ratio is the median
  over pairs of archiving CPU per page / bare CPU per page (wait4 counts the
  crawl's reaped writer process with it).
- crawl_api: the same pair over `replica --layout app` (10,000 articles):
  `crawl --full --source api` versus bench/bare_api_spider.py (crawl_ratio_api).
- wacz: bench/wacz_bench.py: `portal-crawler wacz` of the crawl's archive versus a plain copy
  of the same WARC bytes (wacz_ratio = package MB/s / copy MB/s), and the package's peak RSS
  for each memory crawl's archive (wacz_rss_mb_2k, wacz_rss_mb_20k).

Prints a table and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench import wacz_bench

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
SEED = 1
LAYOUT = "legacy"

FULL: dict[str, Any] = {
    "crawl_articles": 10_000,
    "crawl_pairs": 2,
    "one_core_pairs": 2,
    "api_articles": 10_000,
    "api_pairs": 1,
    "reindex_pairs": 3,
    "memory_articles": (2_000, 20_000),
    "wacz_pairs": 2,
    "search": {},
    "budget_s": 19.5 * 60,
}
QUICK: dict[str, Any] = {
    "crawl_articles": 500,
    "crawl_pairs": 1,
    "one_core_pairs": 1,
    "api_articles": 500,
    "api_pairs": 1,
    "reindex_pairs": 1,
    "memory_articles": (2_000,),
    "wacz_pairs": 1,
    "search": {"n_articles": 2_000, "queries": 50},
    "budget_s": 3 * 60,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- other processes on the machine -------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")
LIVE_REPLICAS: list[ReplicaProcess] = []
FOREIGN: list[str] = []


def _busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICK


def _pid_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


class LoadWatch:
    """CPU seconds other processes (not this bench, its child, its replicas) used during a measurement.

    The benchmarks assume an otherwise idle machine; a test suite running beside them
    shows up here, and the figure measured then is flagged in the notes."""

    def __enter__(self) -> LoadWatch:
        self.busy0 = _busy_s()
        self.ours0 = _pid_cpu_s(os.getpid()) + sum(_pid_cpu_s(r.pid) for r in LIVE_REPLICAS)
        self.pids = [r.pid for r in LIVE_REPLICAS]
        self.started = time.monotonic()
        self.foreign_s = 0.0
        return self

    def stop(self, child_cpu_s: float, what: str) -> float:
        busy = _busy_s() - self.busy0
        ours = _pid_cpu_s(os.getpid()) + sum(_pid_cpu_s(pid) for pid in self.pids) - self.ours0
        wall = time.monotonic() - self.started
        self.foreign_s = max(0.0, busy - ours - child_cpu_s)
        if self.foreign_s > max(1.0, 0.05 * wall):
            FOREIGN.append(
                f"{what}: CPU used outside this bench (other processes, or kernel work such as writeback)"
                f" was {self.foreign_s:.1f} s during its "
                f"{wall:.0f} s: the figure may be disturbed"
            )
            log(f"  warning: {FOREIGN[-1]}")
        return round(self.foreign_s, 2)

    def __exit__(self, *exc: object) -> None:
        pass


# -- children -----------------------------------------------------------------------------------


@dataclass
class Child:
    """One finished child process, with its own rusage."""

    cmd: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    rss_mb: float
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)

    def check(self, what: str) -> Child:
        if self.returncode != 0:
            raise RuntimeError(
                f"{what} exited {self.returncode}: {' '.join(self.cmd)}\n{self.stdout[-2000:]}\n{self.stderr[-2000:]}"
            )
        return self

    def last_json(self) -> dict[str, Any]:
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"no JSON line in the output of {' '.join(self.cmd)}:\n{self.stdout[-2000:]}")


def child_env(tree: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_FAST", "PORTAL_ARCHIVE")}
    env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_child(cmd: list[str], timeout: float = 1800, cpus: set[int] | None = None, tree: Path = ROOT) -> Child:
    """Run `cmd` to completion; wall time, and CPU and peak RSS of that child (os.wait4).

    Linux's wait4 reports the child's usage together with that of the children it
    reaped, so a crawl's CPU includes its writer process. `cpus` pins the child
    (and so every process it starts) to those CPUs. `tree` is the source tree it runs
    (its working directory and first import path): this one, or a release's (bench.against).
    """
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd, cwd=tree, env=child_env(tree), stdout=out, stderr=err, stdin=subprocess.DEVNULL, preexec_fn=pin
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(
            cmd,
            proc.returncode,
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_utime,
            usage.ru_stime,
            usage.ru_maxrss / 1024,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


class ReplicaProcess:
    """The replica portal in its own process (bench/replica_server.py), pre-rendered unless warm=False."""

    def __init__(self, articles: int, warm: bool = True, layout: str = LAYOUT) -> None:
        self.articles, self.warm, self.layout = articles, warm, layout
        self.proc: subprocess.Popen[str] | None = None
        self.listing_url = self.base_url = ""
        self.warm_line = ""

    def __enter__(self) -> ReplicaProcess:
        return self.start().ready()

    def start(self) -> ReplicaProcess:
        cmd = [
            PY,
            "-m",
            "bench.replica_server",
            "--port",
            "0",
            "--articles",
            str(self.articles),
            "--layout",
            self.layout,
            "--seed",
            str(SEED),
        ] + ([] if self.warm else ["--no-warm"])
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
        )
        LIVE_REPLICAS.append(self)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def ready(self) -> ReplicaProcess:
        """Wait until it is warm and serving."""
        assert self.proc is not None and self.proc.stdout is not None
        if self.listing_url:
            return self
        for line in self.proc.stdout:
            if "warmed" in line:
                self.warm_line = line.strip()
            match = re.search(r" at (http://\S+)", line)
            if match:
                self.listing_url = match.group(1)
                self.base_url = self.listing_url.rsplit("/", 1)[0]
                return self
        raise RuntimeError(f"the replica did not start (exit {self.proc.wait()})")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self in LIVE_REPLICAS:
            LIVE_REPLICAS.remove(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.base_url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def counts(self) -> dict[str, int]:
        return self._call("GET", "/_replica/counts")

    def reset(self) -> None:
        self._call("POST", "/_replica/reset")

    def request_rate(self, seconds: float = 2.0, clients: int = 4) -> dict[str, Any]:
        """Requests/s the replica answers to `clients` keep-alive connections asking for what a crawl asks
        (article pages gzip-accepted, their photos, listing pages), oldest articles first so the sample
        is not what the crawl fetches first. A lower bound: the client shares the machine and the GIL."""
        import http.client
        from urllib.parse import urlsplit

        articles = self._call("GET", "/_replica/articles")[::-1]
        pages = -(-len(articles) // 10)
        paths = []
        for i, article in enumerate(articles):
            paths.append(article["url"])
            if i % 3 == 0:
                paths.append(f"/news-and-events.html?Page={1 + i % max(pages, 1)}")
        host, port = urlsplit(self.base_url).hostname or "127.0.0.1", urlsplit(self.base_url).port
        done = [0] * clients
        stop_at = time.monotonic() + seconds

        def client(k: int) -> None:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            i = k
            while time.monotonic() < stop_at:
                conn.request("GET", paths[i % len(paths)], headers={"Accept-Encoding": "gzip, deflate"})
                conn.getresponse().read()
                done[k] += 1
                i += clients
            conn.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        self.reset()
        return {"requests_per_s": round(sum(done) / elapsed, 1), "clients": clients, "seconds": round(elapsed, 2)}


# -- benchmarks ----------------------------------------------------------------------------------


def archiving_crawl(
    url: str, archive: Path, full: bool = True, api: bool = False, cpus: set[int] | None = None
) -> Child:
    cmd = [PY, "-m", "portal_crawler", "crawl", "--fast", "--summary", "--start-url", url, "--archive", str(archive)]
    return run_child(cmd + (["--full"] if full else []) + (["--source", "api"] if api else []), cpus=cpus)


def bare_crawl(url: str, log_file: Path, api: bool = False, cpus: set[int] | None = None) -> Child:
    module = "bench.bare_api_spider" if api else "bench.bare_spider"
    return run_child([PY, "-m", module, "--start-url", url, "--log-file", str(log_file)], cpus=cpus)


def crawl_round(
    kind: str, replica: ReplicaProcess, work: Path, number: int, api: bool = False, cpus: set[int] | None = None
) -> dict[str, Any]:
    replica.reset()
    name = ("api-" if api else "") + ("1core-" if cpus else "")
    with LoadWatch() as watch:
        if kind == "archiving":
            archive = work / f"{name}crawl-archive-{number}"
            child = archiving_crawl(replica.listing_url, archive, api=api, cpus=cpus).check(f"{name}archiving crawl")
        else:
            log_file = work / f"{name}bare-{number}.log"
            child = bare_crawl(replica.listing_url, log_file, api, cpus).check(f"{name}bare crawl")
        foreign = watch.stop(child.cpu_s, f"crawl {kind} round {number}")
    summary = child.stdout.strip().splitlines()[-1]
    counts = replica.counts()
    requests = sum(counts.values())
    row = {
        "kind": kind,
        "round": number,
        "requests": requests,
        "wall_s": round(child.wall_s, 2),
        "pages_per_s": round(requests / child.wall_s, 1),
        "cpu_s": round(child.cpu_s, 2),
        "cpu_ms_per_page": round(1000 * child.cpu_s / requests, 3),
        "rss_mb": round(child.rss_mb, 1),
        "foreign_cpu_s": foreign,
        "summary": summary,
    }
    log(
        f"  {kind:9} round {number}: {requests} requests in {child.wall_s:.1f} s = {row['pages_per_s']} pages/s, "
        f"CPU {child.cpu_s:.1f} s, peak RSS {child.rss_mb:.0f} MB"
    )
    row["_counts"] = counts
    return row


def bench_crawl(cfg: dict[str, Any], replica: ReplicaProcess, work: Path, pairs: range) -> list[dict[str, Any]]:
    rows = []
    for pair in pairs:
        for kind in ("archiving", "bare"):
            rows.append(crawl_round(kind, replica, work, pair))
    return rows


def summarise_crawl(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pairs: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
        pairs.setdefault(row["round"], {})[row["kind"]] = row
    ratios, cpu_ratios, same = [], [], []
    for pair in pairs.values():
        a, b = pair["archiving"], pair["bare"]
        ratios.append(a["pages_per_s"] / b["pages_per_s"])
        cpu_ratios.append(a["cpu_ms_per_page"] / b["cpu_ms_per_page"])
        same.append(a["_counts"] == b["_counts"])
    reference = rows[0]["_counts"]
    all_same = all(row["_counts"] == reference for row in rows)
    for row in rows:
        row.pop("_counts")

    def median(kind: str, key: str) -> float:
        return round(statistics.median(r[key] for r in rows if r["kind"] == kind), 2)

    return {
        "crawl_ratio": round(statistics.median(ratios), 3),
        "pair_ratios": [round(r, 3) for r in ratios],
        "cpu_per_page_ratio": round(statistics.median(cpu_ratios), 3),
        "same_requests": all_same,
        "requests_per_crawl": sum(reference.values()),
        "archiving_pages_per_s": median("archiving", "pages_per_s"),
        "bare_pages_per_s": median("bare", "pages_per_s"),
        "archiving_cpu_s": median("archiving", "cpu_s"),
        "bare_cpu_s": median("bare", "cpu_s"),
        "archiving_rss_mb": median("archiving", "rss_mb"),
        "bare_rss_mb": median("bare", "rss_mb"),
        "rounds": rows,
    }


def bench_incremental(replica: ReplicaProcess, archive: Path) -> dict[str, Any]:
    replica.reset()
    with LoadWatch() as watch:
        child = archiving_crawl(replica.listing_url, archive, full=False).check("incremental crawl")
        foreign = watch.stop(child.cpu_s, "incremental")
    counts = replica.counts()
    result = {
        "nothing_new_requests": sum(counts.values()),
        "nothing_new_s": round(child.wall_s, 2),
        "paths": counts,
        "cpu_s": round(child.cpu_s, 2),
        "foreign_cpu_s": foreign,
        "summary": child.stdout.strip().splitlines()[-1],
    }
    log(
        f"  incremental, nothing new: {result['nothing_new_requests']} requests {sorted(counts)} "
        f"in {child.wall_s:.2f} s"
    )
    return result


def bench_reindex(archive: Path, work: Path, pairs: int) -> dict[str, Any]:
    warc_dir = archive / "warc"
    rounds = []
    for number in range(1, pairs + 1):
        catalogue = work / "reindex" / f"catalogue-{number}.db"
        catalogue.parent.mkdir(parents=True, exist_ok=True)
        with LoadWatch() as watch:
            rebuilt = run_child(
                [PY, "-m", "portal_crawler", "reindex", "--archive", str(archive), "--catalogue", str(catalogue)]
            ).check("reindex")
            foreign = watch.stop(rebuilt.cpu_s, f"reindex round {number}")
        with LoadWatch() as watch:
            raw = run_child([PY, "-m", "bench.raw_read", str(warc_dir)]).check("raw warcio read")
            foreign += watch.stop(raw.cpu_s, f"raw read round {number}")
        fast = run_child([PY, "-m", "bench.raw_read", str(warc_dir), "--fastwarc"]).check("raw FastWARC read")
        info = raw.last_json()
        row = {
            "round": number,
            "reindex_s": round(rebuilt.wall_s, 2),
            "reindex_cpu_s": round(rebuilt.cpu_s, 2),
            "reindex_rss_mb": round(rebuilt.rss_mb, 1),
            "raw_s": round(raw.wall_s, 2),
            "raw_cpu_s": round(raw.cpu_s, 2),
            "raw_loop_s": info["seconds"],
            "raw_fastwarc_s": round(fast.wall_s, 2),  # reindex's own reader, alone: the floor under reindex
            "ratio": round(raw.wall_s / rebuilt.wall_s, 4),
            "foreign_cpu_s": round(foreign, 2),
            "summary": rebuilt.stdout.strip().splitlines()[-1],
        }
        rounds.append(row)
        log(
            f"  reindex round {number}: reindex {rebuilt.wall_s:.1f} s, raw warcio read {raw.wall_s:.1f} s "
            f"({info['records']} records, {info['bytes'] / 1e6:.0f} MB of content),"
            f" raw FastWARC read {fast.wall_s:.1f} s -> ratio {row['ratio']:.3f}"
        )
        shutil.rmtree(catalogue.parent, ignore_errors=True)
    size = sum(p.stat().st_size for p in warc_dir.glob("*.warc.gz"))
    return {
        "reindex_ratio": round(statistics.median(r["ratio"] for r in rounds), 4),
        "reindex_s": round(statistics.median(r["reindex_s"] for r in rounds), 2),
        "raw_read_s": round(statistics.median(r["raw_s"] for r in rounds), 2),
        "raw_fastwarc_s": round(statistics.median(r["raw_fastwarc_s"] for r in rounds), 2),
        "records": info["records"],
        "warc_mb": round(size / 1e6, 1),
        "rounds": rounds,
    }


def bench_memory(replicas: dict[int, ReplicaProcess], work: Path, wacz: bool = True) -> dict[str, Any]:
    """All sizes at once, one archiving crawl per replica: peak RSS does not depend on
    the CPU the crawls share (each replica serves pre-rendered pages, so two crawls
    and their replicas fit the two cores), and this saves minutes of the budget.
    Each archive is packaged as a WACZ (its peak RSS) before it is removed."""
    from concurrent.futures import ThreadPoolExecutor

    def one(articles: int) -> dict[str, Any]:
        replica = replicas[articles].ready()
        replica.reset()
        archive = work / f"memory-{articles}"
        child = archiving_crawl(replica.listing_url, archive).check("memory crawl")
        requests = sum(replica.counts().values())
        replica.stop()
        packaged = wacz_bench.package_rss(articles, archive, work) if wacz else {}
        shutil.rmtree(archive, ignore_errors=True)
        log(
            f"  memory: {articles} articles, {requests} requests: peak RSS {child.rss_mb:.0f} MB ({child.wall_s:.0f} s)"
        )
        return {
            "rss_mb": round(child.rss_mb, 1),
            "requests": requests,
            "wall_s": round(child.wall_s, 1),
            "cpu_s": round(child.cpu_s, 1),
            "wacz": packaged,
        }

    with ThreadPoolExecutor(len(replicas)) as pool:
        by_size = dict(zip(replicas, pool.map(one, replicas), strict=True))
    return {
        "rss_mb_2k": by_size.get(2000, {}).get("rss_mb"),
        "rss_mb_20k": by_size.get(20000, {}).get("rss_mb"),
        "wacz_rss_mb_2k": by_size.get(2000, {}).get("wacz", {}).get("rss_mb"),
        "wacz_rss_mb_20k": by_size.get(20000, {}).get("wacz", {}).get("rss_mb"),
        "concurrent": len(by_size) > 1,
        "by_articles": by_size,
    }


SEARCH_CHILD = """
import json, sys
try:
    import bench.search_bench as search_bench
except ModuleNotFoundError as exc:
    if exc.name not in ("bench.search_bench",):
        raise
    print(json.dumps({"missing": True}))
    sys.exit(0)
kwargs = json.loads(sys.argv[1])
print(json.dumps(search_bench.run(**kwargs)))
"""


def bench_search(kwargs: dict[str, Any], timeout: float) -> dict[str, Any]:
    if not (ROOT / "bench" / "search_bench.py").exists():
        log("  search: bench/search_bench.py does not exist: recorded as null")
        return {"search_p50_ms": None, "search_p95_ms": None, "note": "bench/search_bench.py missing"}
    with LoadWatch() as watch:
        child = run_child([PY, "-c", SEARCH_CHILD, json.dumps(kwargs)], timeout=timeout)
        foreign = watch.stop(child.cpu_s, "search")
    if child.returncode != 0:
        note = f"search_bench failed (exit {child.returncode}): {child.stderr.strip().splitlines()[-1:]}"
        log(f"  search: {note}")
        return {"search_p50_ms": None, "search_p95_ms": None, "note": note}
    result = child.last_json()
    if result.get("missing"):
        return {"search_p50_ms": None, "search_p95_ms": None, "note": "bench.search_bench not importable"}
    result.update(
        {
            "wall_s": round(child.wall_s, 1),
            "foreign_cpu_s": foreign,
            "rss_mb": round(child.rss_mb, 1),
            "args": kwargs or "defaults (n_articles=50000, queries=200)",
        }
    )
    log(
        f"  search: p50 {result.get('search_p50_ms')} ms, p95 {result.get('search_p95_ms')} ms "
        f"({child.wall_s:.0f} s including building the catalogue)"
    )
    return result


# -- context ---------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", text)
        info["cpu_model"] = model.group(1).strip() if model else None
        mem = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
        info["memory_gb"] = round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None
        info["load_avg_at_start"] = os.getloadavg()
    except OSError:
        pass
    for package in ("scrapy", "twisted", "warcio", "fastwarc", "lxml", "parsel", "sqlite-utils", "portal-crawler"):
        with contextlib.suppress(PackageNotFoundError):
            info.setdefault("versions", {})[package] = version(package)
    import sqlite3

    info.setdefault("versions", {})["sqlite"] = sqlite3.sqlite_version
    return info


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD") or None,
        "branch": git("rev-parse", "--abbrev-ref", "HEAD") or None,
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


# -- report ----------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    c, r, m, i, s = (results.get(k) or {} for k in ("crawl", "reindex", "memory", "incremental", "search"))
    w = results.get("wacz") or {}
    rows = [("figure", "value", "baseline / detail")]
    one = results.get("crawl_1core") or {}
    if one:
        rows.append(
            (
                "crawl_ratio_1core (both pinned to one CPU)",
                f"{one['crawl_ratio']:.3f}",
                f"pairs {one['pair_ratios']}; {one['archiving_pages_per_s']} vs {one['bare_pages_per_s']} pages/s;"
                f" CPU {one['archiving_cpu_s']} / {one['bare_cpu_s']} s",
            )
        )
    a = results.get("crawl_api") or {}
    if a:
        rows.append(
            (
                "crawl_ratio_api (archiving/bare pages/s)",
                f"{a['crawl_ratio']:.3f}",
                f"app replica, {a['articles']} articles; same requests: {a['same_requests']}"
                f" ({a['requests_per_crawl']} each); CPU {a['archiving_cpu_s']} / {a['bare_cpu_s']} s",
            )
        )
    if c:
        rows += [
            (
                "crawl_ratio (archiving/bare pages/s)",
                f"{c['crawl_ratio']:.3f}",
                f"pairs {c['pair_ratios']}, same requests: {c['same_requests']} ({c['requests_per_crawl']} each)",
            ),
            ("  archiving crawl pages/s", f"{c['archiving_pages_per_s']}", f"bare Scrapy {c['bare_pages_per_s']}"),
            (
                "  CPU s per crawl",
                f"{c['archiving_cpu_s']}",
                f"bare {c['bare_cpu_s']} (CPU per page ratio {c['cpu_per_page_ratio']})",
            ),
            ("  peak RSS MB", f"{c['archiving_rss_mb']}", f"bare {c['bare_rss_mb']}"),
            (
                "  replica req/s (probe)",
                f"{c['replica']['requests_per_s']}",
                f"{c['replica']['clients']} keep-alive clients",
            ),
        ]
    if m:
        rows += [("rss_mb_2k", f"{m.get('rss_mb_2k')}", ""), ("rss_mb_20k", f"{m.get('rss_mb_20k')}", "")]
    if i:
        rows += [
            (
                "nothing_new_requests",
                f"{i['nothing_new_requests']}",
                f"vs {c.get('requests_per_crawl', '?')} for a full crawl",
            ),
            ("nothing_new_s", f"{i['nothing_new_s']}", "wall, whole process"),
        ]
    if r:
        rows += [
            (
                "reindex_ratio (raw s / reindex s)",
                f"{r['reindex_ratio']:.4f}",
                f"rounds {[round(x['ratio'], 3) for x in r['rounds']]}; median reindex {r['reindex_s']} s"
                f" vs raw warcio {r['raw_read_s']} s ({r['warc_mb']} MB WARC)",
            )
        ]
    if w:
        rows += [
            (
                "wacz_ratio (package MB/s / copy MB/s)",
                f"{w['wacz_ratio']:.4f}",
                f"package {w['wacz_mb_s']} MB/s ({w['wacz_s']} s) vs plain copy {w['copy_mb_s']} MB/s"
                f" ({w['warc_mb']} MB WARC); run slice {w['slice_run_1_s']} s",
            )
        ]
    if m:
        rows += [
            ("wacz_rss_mb_2k", f"{m.get('wacz_rss_mb_2k')}", "peak RSS of `portal-crawler wacz`, whole archive"),
            ("wacz_rss_mb_20k", f"{m.get('wacz_rss_mb_20k')}", ""),
        ]
    rows += [
        ("search_p50_ms", f"{s.get('search_p50_ms')}", s.get("note", "")),
        ("search_p95_ms", f"{s.get('search_p95_ms')}", ""),
    ]
    width = [max(len(row[k]) for row in rows) for k in range(3)]
    lines = [f"{a:<{width[0]}}  {b:>{width[1]}}  {cc}" for a, b, cc in rows]
    lines.insert(1, "-" * (width[0] + width[1] + 20))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round: a smoke check (~1-2 min)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary archives")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "config": {k: v for k, v in cfg.items()},
        "git": git_commit(),
        "machine": machine(),
        "notes": [],
    }
    log(f"portal-crawler benchmarks ({'quick' if args.quick else 'full'}), work dir {work}")
    replicas: list[ReplicaProcess] = []
    try:
        # Every replica renders its pages before anything is measured, all at once (2 cores),
        # and then waits idle: none is warming while a figure is being taken.
        replica = ReplicaProcess(cfg["crawl_articles"]).start()
        memory_replicas = {n: ReplicaProcess(n).start() for n in cfg["memory_articles"]}
        replicas = [replica, *memory_replicas.values()]
        for each in replicas:
            each.ready()
        log(
            f"replicas ready ({cfg['crawl_articles']} and {', '.join(map(str, memory_replicas))} articles), "
            f"each in its own process, pages pre-rendered"
        )

        log(f"crawl: replica with {cfg['crawl_articles']} articles; {replica.warm_line}")
        rate = replica.request_rate()
        log(f"  replica answers {rate['requests_per_s']} req/s to {rate['clients']} keep-alive clients")
        rows = bench_crawl(cfg, replica, work, range(1, 2))
        t_archiving, t_bare = rows[0]["wall_s"], rows[1]["wall_s"]
        # What is still to come after the crawl pairs, from the first pair's times.
        memory_s = t_archiving * max(cfg["memory_articles"]) / cfg["crawl_articles"] * 1.1
        wacz_s = (cfg["wacz_pairs"] + 1) * 0.3 * t_archiving  # packaging the archive, per pair and the slice
        rest_s = (
            5
            + 1.1 * (1 + cfg["one_core_pairs"]) * (t_archiving + t_bare)  # the API pair and the one-core pairs
            + cfg["reindex_pairs"] * 0.3 * t_archiving
            + wacz_s
            + memory_s
            + (40 if not args.quick else 5)
            + 15
        )
        extra_pairs = cfg["crawl_pairs"] - 1
        can = 0
        while can < extra_pairs:
            projected = time.monotonic() - started + (can + 1) * (t_archiving + t_bare) * 1.05 + rest_s
            if projected > cfg["budget_s"]:
                break
            can += 1
        if can:
            rows += bench_crawl(cfg, replica, work, range(2, 2 + can))
        if can < extra_pairs:
            note = (
                f"crawl: ran {1 + can} of {cfg['crawl_pairs']} pairs to stay within the {cfg['budget_s']:.0f} s budget"
            )
            results["notes"].append(note)
            log(note)
        results["crawl"] = {
            **summarise_crawl(rows),
            "articles": cfg["crawl_articles"],
            "replica": rate,
            "replica_warm": replica.warm_line,
        }
        archive = work / "crawl-archive-1"

        log("crawl, one core: pairs with both crawls (and the archiving crawl's writer) pinned to CPU 0")
        one_core = [
            crawl_round(kind, replica, work, number, cpus={0})
            for number in range(1, cfg["one_core_pairs"] + 1)
            for kind in ("archiving", "bare")
        ]
        results["crawl_1core"] = summarise_crawl(one_core)

        log("incremental: second run over the crawl's archive, nothing new")
        results["incremental"] = bench_incremental(replica, archive)
        replica.stop()

        log("reindex: portal-crawler reindex versus a plain warcio read of the same files")
        results["reindex"] = bench_reindex(archive, work, cfg["reindex_pairs"])

        log("wacz: portal-crawler wacz of the archive versus a plain copy of its WARC bytes")
        results["wacz"] = wacz_bench.bench_wacz(archive, work / "wacz", cfg["wacz_pairs"])

        log(f"memory: archiving crawls at {', '.join(map(str, memory_replicas))} articles, run side by side")
        results["memory"] = bench_memory(memory_replicas, work)

        log("search: bench/search_bench.py")
        results["search"] = bench_search(cfg["search"], timeout=600)

        from bench.api_crawl import bench_crawl_api

        results["crawl_api"] = bench_crawl_api(cfg, work)
    finally:
        for each in replicas:
            each.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    results["total_s"] = round(time.monotonic() - started, 1)
    flat = {
        "crawl_ratio": results["crawl"]["crawl_ratio"],
        "crawl_cpu_ratio": results["crawl"]["cpu_per_page_ratio"],
        "crawl_ratio_1core": results["crawl_1core"]["crawl_ratio"],
        "crawl_ratio_api": results["crawl_api"]["crawl_ratio"],
        "rss_mb_2k": results["memory"]["rss_mb_2k"],
        "rss_mb_20k": results["memory"]["rss_mb_20k"],
        "nothing_new_requests": results["incremental"]["nothing_new_requests"],
        "nothing_new_s": results["incremental"]["nothing_new_s"],
        "reindex_ratio": results["reindex"]["reindex_ratio"],
        "search_p50_ms": results["search"].get("search_p50_ms"),
        "search_p95_ms": results["search"].get("search_p95_ms"),
        "wacz_ratio": results["wacz"]["wacz_ratio"],
        "wacz_rss_mb_2k": results["memory"]["wacz_rss_mb_2k"],
        "wacz_rss_mb_20k": results["memory"]["wacz_rss_mb_20k"],
    }
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    results["notes"] += FOREIGN
    if not results["crawl"]["same_requests"]:
        results["notes"].append("crawl: archiving and bare rounds did NOT make the same requests (see rounds)")
    if args.quick:
        results["notes"].append(
            "quick: small sizes (crawl 500 articles, 1 pair; memory at 2,000 only; "
            "search 2,000 articles): a smoke check, not figures to compare"
        )
    output = {**flat, **results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(table(results))
    for note in results["notes"]:
        print(f"note: {note}")
    print(
        f"\n{results['total_s']:.0f} s in all; written to "
        f"{args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
