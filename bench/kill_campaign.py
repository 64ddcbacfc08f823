"""Kill campaign: SIGKILL the crawl, its writer or the whole process group at random moments, on one archive.

    python -m bench.kill_campaign [--kills 60] [--articles 150] [--seed N] [--json FILE]   (make kill-campaign)

A replica (in this process, 127.0.0.1) and one archive serve every round: a crawl (incremental and `--full` in
turn, new and edited articles now and then) is killed (crawl, writer, group in turn) at a moment uniform over a
whole crawl's span (measured once per mode); then `verify --repair`, an incremental rerun, and `check`. A kill
after the run had ended is counted apart; rounds go on until `--kills` kills interrupted a run (3x as many at
most). Exit 0 only if every figure is zero.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from portal_crawler.catalogue import CapturePointer, Catalogue
from portal_crawler.cli import cli as portal_cli
from portal_crawler.core.lock import ArchiveLock, LockHeld
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.warc.reader import WarcReadError, read_record

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("crawl", "writer", "group")
CHECKS = ("unresolved", "missing", "duplicates", "verify", "warcio", "repair", "rerun")
WARCIO = Path(sys.executable).parent / "warcio"
DUPLICATE_QUERIES = (  # an article ID cannot be there twice: it is the table's primary key
    "SELECT 'url ' || url FROM articles GROUP BY url HAVING count(*) > 1",
    "SELECT 'versions ' || a.article_id || ' ' || a.version || '/' || b.version FROM versions a"
    " JOIN versions b ON b.article_id = a.article_id AND b.version = a.version + 1"
    " WHERE a.content_hash = b.content_hash",
)


@dataclass
class Round:
    """What one round did and found; `problems` counts by check (see CHECKS)."""

    number: int
    target: str
    mode: str
    moment: float = 0.0
    interrupted: bool = False
    repairs: int = 0
    rerun_exit: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


@dataclass
class Campaign:
    """What every round shares: one replica, one archive, a whole crawl's span per mode, the seeded draws."""

    replica: Replica
    archive: Path
    spans: dict[str, float]
    rng: random.Random
    resolved: set[CapturePointer] = field(default_factory=set)  # rows read back whole, into files unchanged since


def crawl(archive: Path, url: str, full: bool, output: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """A crawl in a session of its own (so its group can be killed as one); its log is in the archive's logs/."""
    args = ["crawl", "--archive", str(archive), "--start-url", url, "--fast", *(["--full"] if full else [])]
    args += ["--set", "PORTAL_WRITER=process"]  # the campaign kills the writer process too, even on one CPU
    command = [sys.executable, "-m", "portal_crawler", *args]
    return subprocess.Popen(command, text=True, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def verify(archive: Path, *options: str) -> tuple[int, str]:
    """`portal-crawler verify` (the click command, in this process: a fresh interpreter costs more than the check)."""
    result = CliRunner().invoke(portal_cli, ["verify", "--archive", str(archive), *options])
    crashed = not isinstance(result.exception, SystemExit | None)
    return result.exit_code, result.output + (f"{result.exception!r}" if crashed else "")


def writer_of(pid: int) -> int | None:
    """The crawl's live writer process (its child running portal_crawler.writer; a zombie has no cmdline)."""
    with contextlib.suppress(OSError):  # a process that has just gone: the caller looks again
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            if b"portal_crawler.writer" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    return None


def kill(process: subprocess.Popen[str], target: str, started: float, notes: list[str]) -> tuple[bool, float]:
    """SIGKILL the target (the writer as soon as it exists): (whether that interrupted the crawl, when it was)."""
    pid: int | None = process.pid
    while target == "writer" and (pid := writer_of(process.pid)) is None and process.poll() is None:
        time.sleep(0.01)
    moment = time.monotonic() - started
    if pid is None or process.poll() is not None:
        return False, moment
    (os.killpg if target == "group" else os.kill)(pid, signal.SIGKILL)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:  # a crawl whose writer died must stop by itself
        notes.append("the crawl still ran 60 s after the kill")
        os.killpg(process.pid, signal.SIGKILL)
        code = process.wait()
    return target == "writer" or code == -signal.SIGKILL, moment


def wait_unlocked(archive: Path, timeout: float = 60) -> None:
    """After a kill the writer writes out what it had, holding the lock until done."""
    for _ in range(int(timeout / 0.05)):
        with contextlib.suppress(LockHeld):
            ArchiveLock(archive).acquire().release()
            return
        time.sleep(0.05)
    raise SystemExit(f"kill_campaign: {archive} is still locked {timeout:.0f} s after the kill")


def warc_files(archive: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in ArchivePaths(archive).warc.glob("*.warc.gz")}


def unresolved(catalogue: Catalogue, paths: ArchivePaths, resolved: set[CapturePointer]) -> list[str]:
    """Capture rows (but those in `resolved`) not resolving to a record of their URL and ID; rows naming no capture."""
    bad = []
    for pointer in sorted(set(catalogue.iter_captures()) - resolved, key=lambda p: p.id):
        try:
            record = read_record(paths.warc_file(pointer.warc_filename), pointer.warc_offset)
        except (WarcReadError, ValueError) as error:
            bad.append(f"capture {pointer.id}: {error}")
            continue
        if (record.url, record.record_id) == (pointer.url, pointer.warc_record_id):
            resolved.add(pointer)
        else:
            bad.append(f"capture {pointer.id}: record {record.record_id} of {record.url}")
    dangling = catalogue.dangling_articles() + [(a, c) for a, _v, c in catalogue.dangling_versions()]
    return bad + [f"article {a}: capture {c} does not exist" for a, c in dangling]


def found_problems(found: Round, kind: str, code: int, lines: list[str]) -> None:
    """Count a failed command (code != 0) and keep the last lines it printed."""
    if code != 0:
        found.problems[kind] += 1
        found.notes += [f"{kind} exit {code}: {text}" for text in lines[-5:]]


def check(campaign: Campaign, written: list[str], found: Round) -> None:
    """Capture rows resolve to records of their URL and ID; every live replica article is catalogued, once, with no
    two consecutive versions of one content hash; `verify` exits 0; `warcio check` passes on the files written."""
    paths = ArchivePaths(campaign.archive)
    campaign.resolved -= {p for p in campaign.resolved if p.warc_filename in written}
    files, out = [str(paths.warc / name) for name in written], subprocess.PIPE
    warcio = subprocess.Popen([str(WARCIO), "check", *files], stdout=out, stderr=subprocess.STDOUT, text=True)
    catalogue = Catalogue.reader(paths.catalogue)
    try:
        catalogued = {row[0] for row in catalogue.conn.execute("SELECT id FROM articles WHERE capture_id IS NOT NULL")}
        for kind, problems in {
            "unresolved": unresolved(catalogue, paths, campaign.resolved),
            "missing": sorted(a.id for a in campaign.replica.articles() if a.id not in catalogued),  # live ones only
            "duplicates": [row[0] for sql in DUPLICATE_QUERIES for row in catalogue.conn.execute(sql)],
        }.items():
            found.problems[kind] += len(problems)
            found.notes += [f"{kind}: {p}" for p in problems[:5]]
    finally:
        catalogue.close()
    code, output = verify(paths.root)
    found_problems(found, "verify", code, output.splitlines())
    output = warcio.communicate()[0]
    found_problems(found, "warcio", warcio.returncode, output.splitlines())


def play(campaign: Campaign, number: int) -> Round:
    """One round: crawl, kill, repair, rerun, check (round 1 is the first crawl of the empty archive)."""
    found = Round(number, TARGETS[(number - 1) % len(TARGETS)], "full" if number % 2 == 0 else "incremental")
    rng, replica = campaign.rng, campaign.replica
    if rng.random() < 0.5:  # new work now and then, so incremental rounds have some too
        replica.add_articles(rng.randint(1, 4))
    if rng.random() < 0.3:
        replica.edit_article(rng.choice(replica.articles()).id)
    before = warc_files(campaign.archive)
    moment, started = rng.uniform(0, campaign.spans[found.mode]), time.monotonic()
    process = crawl(campaign.archive, replica.listing_url, found.mode == "full", subprocess.DEVNULL)
    time.sleep(max(0.0, started + moment - time.monotonic()))
    found.interrupted, found.moment = kill(process, found.target, started, found.notes)
    wait_unlocked(campaign.archive)
    if found.interrupted:  # then `verify --repair` and an incremental rerun (a run that had ended needs neither)
        has_catalogue = ArchivePaths(campaign.archive).catalogue.exists()  # a kill at once may leave none
        code, output = verify(campaign.archive, "--repair") if has_catalogue else (0, "")
        found.repairs = output.count("repaired: ")
        found_problems(found, "repair", code, output.splitlines())
        output = (rerun := crawl(campaign.archive, replica.listing_url, full=False)).communicate(timeout=600)[0]
        found.rerun_exit = rerun.returncode
        found_problems(found, "rerun", rerun.returncode, output.splitlines())
    check(campaign, sorted(n for n, state in warc_files(campaign.archive).items() if before.get(n) != state), found)
    return found


def measure_spans(config: ReplicaConfig, scratch: Path) -> dict[str, float]:
    """Seconds a whole crawl takes per mode, on a twin replica: the first (full), then one with 3 new articles."""
    spans: dict[str, float] = {}
    with Replica(config) as twin:
        for mode in ("full", "incremental"):
            twin.add_articles(3 if mode == "incremental" else 0)
            started = time.monotonic()
            output = (done := crawl(scratch, twin.listing_url, mode == "full")).communicate(timeout=600)[0]
            spans[mode] = time.monotonic() - started
            if done.returncode != 0:
                raise SystemExit(f"kill_campaign: the timing crawl failed (exit {done.returncode}): {output.strip()}")
    return spans


def line(found: Round) -> str:
    problems = ", ".join(f"{k} {v}" for k, v in found.problems.items() if v) or "none"
    if found.mode == "final":
        return f"final check of every capture and WARC file: problems: {problems}"
    return (
        f"round {found.number:3d}  {found.target:6s} {found.mode:11s} moment {found.moment:5.2f} s  interrupted "
        f"{'yn'[not found.interrupted]}  repairs {found.repairs:3d}  rerun exit {found.rerun_exit}  problems {problems}"
    )


def summary(rounds: list[Round], final: Round, spans: dict[str, float], wall: float, options: Any) -> dict[str, Any]:
    totals = sum((f.problems for f in [*rounds, final]), Counter[str]())
    kills = Counter(f.target for f in rounds if f.interrupted)
    return {
        "kills": {**{t: kills[t] for t in TARGETS}, "total": sum(kills.values())},
        "finished_before_kill": sum(not f.interrupted for f in rounds),
        "rounds": len(rounds),
        **{check: totals[check] for check in CHECKS},
        "repair_actions": sum(f.repairs for f in rounds),
        "crawl_span_s": {mode: round(span, 2) for mode, span in spans.items()},
        "wall_s": round(wall, 1),
        "options": {name: value for name, value in vars(options).items() if name != "json"},
        "rounds_detail": [{**asdict(f), "problems": dict(f.problems)} for f in [*rounds, final]],
    }


def report(figures: dict[str, Any]) -> None:
    kills, problems = figures["kills"], ", ".join(f"{check} {figures[check]}" for check in CHECKS)
    print(
        f"kills that interrupted a run: {kills['total']} (crawl {kills['crawl']}, writer {kills['writer']},"
        f" group {kills['group']}); after the run had ended: {figures['finished_before_kill']};"
        f" rounds {figures['rounds']}; repair actions {figures['repair_actions']}\nproblems: {problems}\n"
        f"wall time {figures['wall_s']} s (whole crawls: {figures['crawl_span_s']} s;"
        f" articles {figures['options']['articles']} -> {figures['options']['articles_at_end']})"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_campaign", description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=60, help="kills that interrupt a run (default 60)")
    parser.add_argument("--articles", type=int, default=150, help="replica articles at the start (default 150)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the moments, the new work and the replica")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "kill_campaign.json")
    options = parser.parse_args(argv)
    if options.kills < 1 or options.articles < 0:
        parser.error("--kills must be 1 or more, --articles 0 or more")
    return options


def main(argv: list[str] | None = None) -> int:
    options, started = parse(argv), time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="kill-campaign-"))
    config = ReplicaConfig(articles=options.articles, seed=options.seed, host="127.0.0.1", port=0)
    spans = measure_spans(config, work / "timing")
    print(f"whole crawls: {', '.join(f'{m} {s:.2f} s' for m, s in spans.items())}; archive {work}", flush=True)
    with Replica(config) as replica:
        campaign = Campaign(replica, work / "archive", spans, random.Random(options.seed))
        rounds: list[Round] = []
        while sum(f.interrupted for f in rounds) < options.kills and len(rounds) < 3 * options.kills:
            rounds.append(play(campaign, len(rounds) + 1))
            print("\n    ".join([line(rounds[-1]), *rounds[-1].notes]), flush=True)
        final, campaign.resolved = Round(0, "-", "final"), set()  # the final check reads everything again
        check(campaign, sorted(warc_files(campaign.archive)), final)
        print("\n    ".join([line(final), *final.notes]), flush=True)
        options.articles_at_end = len(replica.articles())
    figures = summary(rounds, final, spans, time.monotonic() - started, options)
    report(figures)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    clean = figures["kills"]["total"] >= options.kills and not any(figures[c] for c in CHECKS)
    if clean:
        shutil.rmtree(work)
    else:
        print(f"kept for inspection: {work}", flush=True)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
