"""Serving the replica from the command line until stopped."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from portal_crawler.replica.drift import VARIANTS
from portal_crawler.replica.replica import LAYOUTS, Replica, ReplicaConfig
from portal_crawler.replica.walls import KINDS


def serve(config: ReplicaConfig) -> None:
    """Serve until Ctrl-C or SIGTERM, after one line saying where."""
    done = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        done.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    with Replica(config) as replica:
        what = f"{len(replica.store)} articles ({describe(config)})"
        print(f"replica: serving {what} at {replica.listing_url}", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)


def describe(config: ReplicaConfig) -> str:
    """``legacy``, ``legacy, drift neutral``, ``current, challenge (cloudflare) for the first 5 requests``."""
    parts = [config.layout]
    if config.drift and config.drift != "challenge":
        parts.append(f"drift {config.drift}")
    if config.drift == "challenge" or config.challenge_first is not None:
        scope = "every request" if config.challenge_first is None else f"the first {config.challenge_first} requests"
        parts.append(f"{config.challenge_kind} challenge for {scope}")
    return ", ".join(parts)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="portal-crawler replica", description="Serve the replica MPS portal on loopback."
    )
    cli.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=8080, help="port, 0 for a free one (default 8080)")
    cli.add_argument("--articles", type=int, default=200, help="generated articles besides the seeds")
    cli.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="legacy",
        help="URL scheme and template: legacy (2017-2024), current (2025+ pages), "
        "app (2025+ pages as script shells over the JSON API /backend-portal/, Portal-Id: 28)",
    )
    cli.add_argument("--seed", type=int, default=1, help="generator seed (same seed, same pages)")
    cli.add_argument("--drift", choices=VARIANTS, help="serve pages in altered markup (see replica/drift.py)")
    cli.add_argument(
        "--challenge", type=int, metavar="N", help="answer the first N requests with a challenge page, then serve"
    )
    cli.add_argument("--challenge-kind", choices=KINDS, default="incapsula", help="which bot wall (default incapsula)")
    cli.add_argument("--challenge-status", type=int, help="status of challenge pages (default: the kind's own)")
    return cli


def main(argv: list[str] | None = None) -> int:
    """``python -m portal_crawler.replica [--port P] ...``."""
    cli = parser()
    args = cli.parse_args(argv)
    try:
        config = ReplicaConfig(
            articles=args.articles,
            layout=args.layout,
            seed=args.seed,
            host=args.host,
            port=args.port,
            drift=args.drift,
            challenge_first=args.challenge,
            challenge_kind=args.challenge_kind,
            challenge_status=args.challenge_status,
        )
    except ValueError as error:
        cli.error(str(error))  # one line on stderr, exit 2
    serve(config)
    return 0


serve_forever = serve
