"""Serving the replica from the command line until stopped."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from portal_crawler.replica.replica import LAYOUTS, Replica, ReplicaConfig


def serve(config: ReplicaConfig) -> None:
    """Serve until Ctrl-C or SIGTERM, after one line saying where."""
    done = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        done.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    with Replica(config) as replica:
        print(f"replica: serving {len(replica.store)} articles ({config.layout}) at {replica.listing_url}", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="portal-crawler replica", description="Serve the replica MPS portal on loopback."
    )
    cli.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=8000, help="port, 0 for a free one (default 8000)")
    cli.add_argument("--articles", type=int, default=200, help="generated articles besides the seeds")
    cli.add_argument("--layout", choices=LAYOUTS, default="legacy", help="URL scheme and template")
    cli.add_argument("--seed", type=int, default=1, help="generator seed (same seed, same pages)")
    return cli


def main(argv: list[str] | None = None) -> int:
    """``python -m portal_crawler.replica [--port P] ...``."""
    args = parser().parse_args(argv)
    serve(ReplicaConfig(articles=args.articles, layout=args.layout, seed=args.seed, host=args.host, port=args.port))
    return 0


serve_forever = serve
