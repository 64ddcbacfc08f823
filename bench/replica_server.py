"""The replica portal in its own process, pre-rendered so that it is not the bottleneck.

    python -m bench.replica_server --port 0 --articles 10000 --layout legacy --seed 1 [--no-warm]

The same server as `python -m portal_crawler.replica` (same Replica object, same
pages, counts and controls), but before it answers the first request it renders
every listing page, article page and photo once, gzip copy included, into the
site's page cache, whose bound is lifted to hold them all. The crawl then costs
the replica a cache lookup and one `sendall` per request instead of generating
and compressing a 20-40 KB page. Nothing in portal_crawler is changed: the
cache object is only given a larger capacity.

Prints `replica: serving N articles (layout) at URL` once it is warm and
accepting requests, then serves until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from types import FrameType

from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.replica.site import PER_PAGE


def warm(replica: Replica) -> tuple[int, float]:
    """Render and gzip every page a full crawl asks for; returns (pages, seconds)."""
    started = time.monotonic()
    site, layout = replica.site, replica.site.layout
    articles = replica.articles()
    pages = -(-len(articles) // PER_PAGE)
    targets = [layout.LISTING] + [f"{layout.LISTING}?Page={n}" for n in range(2, pages + 2)]
    for article in articles:
        targets.append(article.url_path)
        targets.extend(article.images)
    site.cache.capacity = max(site.cache.capacity, len(targets) + 1024)
    for target in targets:
        response = site.respond(target)
        if response.compressible and response.status == 200:
            response.gzipped()
    return len(targets), time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replica_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--layout", choices=("legacy", "current", "app"), default="legacy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-warm", dest="warm", action="store_false")
    args = parser.parse_args(argv)

    done = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    replica = Replica(
        ReplicaConfig(articles=args.articles, layout=args.layout, seed=args.seed, host=args.host, port=args.port)
    )
    if args.warm:
        count, seconds = warm(replica)
        print(f"replica: warmed {count} pages in {seconds:.1f} s", flush=True)
    with replica:
        print(f"replica: serving {len(replica.store)} articles ({args.layout}) at {replica.listing_url}", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
