"""Where the writer process's time goes, per response: a crawl's messages replayed into a fresh session.

    python -m bench.profile_writer [--articles 2000] [--rounds 3] [--layout legacy|app] [--frames FILE]

Records the message stream of one full archiving crawl (the same code path as
`portal-crawler crawl --full --fast`, against bench/replica_server.py), then
replays it, `--rounds` times, into an `ArchiveSession` over a new archive in
this process, exactly as the writer process would handle it (WARC files,
catalogue, fsync before commit), with perf_counter timers around each stage.
Replaying the same bytes makes the figures repeatable to a few per cent, so a
change to the writer can be measured alone; the crawl process is
bench/profile_crawl.py's. `--frames FILE` keeps the recording (or reuses it
when FILE exists); `--cprofile` replays once more under cProfile and prints
the top functions by own time.

Prints, per stage, the inclusive milliseconds per response (median over the
rounds) and writes bench/results/profile-writer.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from bench.profile_crawl import install_timers
from bench.run import RESULTS, ReplicaProcess
from portal_crawler.writer.pipes import FrameReader

try:  # the writer process runs with its collector tuned (core/collector.py); trees before it did not
    from portal_crawler.core.collector import tuned_collector
except ImportError:  # an older tree, for an A/B
    from contextlib import nullcontext as tuned_collector  # type: ignore[assignment]
from portal_crawler.writer.protocol import Capture, Close, WriterConfig, frame

# (label, module, attribute path) of the writer's stages; an indented label is part of the one above it.
STAGES = [
    ("WARC: write the records", "portal_crawler.writer.session", "ArchiveSession._write"),
    ("  prior capture of the URL (SQLite)", "portal_crawler.catalogue.store", "Catalogue.prior_capture"),
    ("  payload digest (SHA-1, base32)", "portal_crawler.warc.writer", "payload_digest"),
    ("  block digests (SHA-1, base32)", "portal_crawler.warc.writer", "sha1_label"),
    ("  gzip members (deflate or store)", "portal_crawler.warc.writer", "gzip_member"),
    ("  write to the file", "portal_crawler.warc.writer", "WarcWriter._append"),
    ("  capture row (SQLite)", "portal_crawler.catalogue.store", "Catalogue.add_capture"),
    ("article pages: read_page", "portal_crawler.catalogue.ingest", "read_page"),
    ("  decode the entity (gunzip)", "portal_crawler.catalogue.ingest", "decode_entity"),
    ("  TextResponse (headers, encoding)", "portal_crawler.catalogue.ingest", "text_response"),
    ("  parse (lxml, through parsel)", "parsel.selector", "create_root_node"),
    ("  requisites for the crawl", "portal_crawler.catalogue.ingest", "requisite_urls"),
    ("  wall check", "portal_crawler.catalogue.ingest", "wall_kind"),
    ("  extraction (fields, cleaners, fallbacks)", "portal_crawler.catalogue.ingest", "article_item"),
    ("article rows: record_page (SQLite, FTS)", "portal_crawler.catalogue.ingest", "record_page"),
    ("  content hash", "portal_crawler.catalogue.store", "content_hash"),
    ("commits: fsync, then COMMIT", "portal_crawler.writer.session", "ArchiveSession.flush"),
    ("  fsync of the WARC file", "portal_crawler.warc.writer", "WarcWriter.sync"),
    ("close: run row, quality, alarms", "portal_crawler.writer.session", "ArchiveSession.close"),
]
TOP = [label for label, _, _ in STAGES if not label.startswith(" ")]


def record(articles: int, layout: str, path: Path) -> None:
    """One full crawl, every message to the writer also appended to `path`."""
    from portal_crawler.crawl import archive_run
    from portal_crawler.crawl.run import CrawlOptions, run_crawl

    original = archive_run.ArchiveRun._send
    with path.open("wb") as out:

        def tee(self: archive_run.ArchiveRun, message: Any) -> None:
            out.write(frame(message))
            original(self, message)

        archive_run.ArchiveRun._send = tee  # type: ignore[method-assign]
        try:
            with ReplicaProcess(articles, layout=layout) as replica, tempfile.TemporaryDirectory() as work:
                replica.reset()
                options = CrawlOptions(
                    archive=Path(work) / "archive",
                    start_urls=[replica.listing_url],
                    source="api" if layout == "app" else "auto",
                    full=True,
                    fast=True,
                )
                result = run_crawl(options)
                print(f"recorded: {result.summary()}", file=sys.stderr)
        finally:
            archive_run.ArchiveRun._send = original  # type: ignore[method-assign]


def replay(recording: bytes, archive: Path) -> tuple[float, float, int]:
    """Handle the recorded messages as the writer process would; (CPU s, unpickle s, responses)."""
    from portal_crawler.catalogue import Catalogue
    from portal_crawler.writer.session import ArchiveSession

    archive.mkdir(parents=True)
    started, t0 = time.process_time(), time.perf_counter()
    config, *messages = FrameReader(-1).feed(recording)  # the writer's own reader, the frames split and unpickled
    unpickle = time.perf_counter() - t0
    assert isinstance(config, WriterConfig)
    catalogue = Catalogue(archive / "catalogue.db")
    run_id = catalogue.start_run(config.mode, config.profile, "bench", 0)
    catalogue.close()
    answers = open(os.devnull, "wb")  # noqa: SIM115  (the crawl's end of the answer pipe, discarded here)
    config = replace(config, archive_dir=archive, run_id=run_id, log_file=None)
    if "answers_to" in {f.name for f in fields(config)}:  # not in releases before the writer answered requisites
        config = replace(config, answers_to=answers.fileno())
    session = ArchiveSession(config)
    responses = 0
    with tuned_collector():
        for message in messages:
            if isinstance(message, Capture):
                responses += 1
                session.capture(message)
            elif isinstance(message, Close):
                session.close(message)
                break
        else:  # the crawl's Close goes past ArchiveRun._send: the recording ends without it
            session.close(Close("ok", {}, walk_complete=True))
    answers.close()
    return time.process_time() - started, unpickle, responses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_writer")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layout", choices=("legacy", "app"), default="legacy")
    parser.add_argument("--frames", type=Path, help="keep the recorded messages here (reused when it exists)")
    parser.add_argument("--cprofile", action="store_true", help="one more replay under cProfile")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="portal-profile-writer-"))
    try:
        path = args.frames or work / "frames.bin"
        if not path.exists():
            record(args.articles, args.layout, path)
        raw = path.read_bytes()
        totals = install_timers(STAGES)
        rounds = [_timed_round(raw, work / f"replay-{n}", totals) for n in range(args.rounds)]
        out = _report(rounds, path)
        if args.cprofile:
            profile = cProfile.Profile()
            profile.runcall(replay, raw, work / "replay-cprofile")
            stream = io.StringIO()
            pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(30)
            print(stream.getvalue())
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "profile-writer.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _timed_round(raw: bytes, archive: Path, totals: dict[str, list[float]]) -> dict[str, Any]:
    totals.clear()
    cpu, unpickle, responses = replay(raw, archive)
    size = sum(f.stat().st_size for f in (archive / "warc").glob("*.warc.gz"))
    stages = {label: (int(calls), seconds) for label, (calls, seconds) in totals.items()}
    return {"cpu_s": cpu, "unpickle_s": unpickle, "responses": responses, "warc_bytes": size, "stages": stages}


def _report(rounds: list[dict[str, Any]], path: Path) -> dict[str, Any]:
    responses = rounds[0]["responses"]

    def ms(seconds: list[float]) -> float:
        return round(1000 * statistics.median(seconds) / responses, 4)

    cpu = [r["cpu_s"] for r in rounds]
    each = ", ".join(f"{c:.2f}" for c in cpu)
    print(
        f"\n{responses} responses replayed {len(rounds)} times from {path.name}: writer CPU "
        f"{statistics.median(cpu):.2f} s = {ms(cpu):.3f} ms per response (rounds {each} s); "
        f"WARC {rounds[0]['warc_bytes'] / responses:,.0f} bytes per response\n"
    )
    print(f"{'stage (inclusive)':48} {'calls':>7} {'ms/resp':>8} {'% CPU':>6}")
    rows = []
    unpickle = ms([r["unpickle_s"] for r in rounds])
    lines = [("unpickle the messages", responses, unpickle)]
    for label, _, _ in STAGES:
        calls = rounds[0]["stages"].get(label, (0, 0.0))[0]
        lines.append((label, calls, ms([r["stages"].get(label, (0, 0.0))[1] for r in rounds])))
    ours = unpickle + sum(value for label, _, value in lines if label in TOP)
    lines.append(("everything else (loop, counts, quality)", responses, round(ms(cpu) - ours, 4)))
    for label, calls, value in lines:
        share = 100 * value / ms(cpu)
        rows.append({"stage": label.strip(), "calls": calls, "ms_per_response": value, "pct_cpu": round(share, 1)})
        print(f"{label:48} {calls:>7} {value:>8.3f} {share:>6.1f}")
    return {
        "responses": responses,
        "cpu_ms_per_response": ms(cpu),
        "cpu_s_rounds": [round(c, 3) for c in cpu],
        "warc_bytes_per_response": round(rounds[0]["warc_bytes"] / responses),
        "stages": rows,
    }


if __name__ == "__main__":
    sys.exit(main())
