"""The API crawl benchmark: `crawl --full --source api` against bare Scrapy making the same requests.

Both crawl a `replica --layout app` in its own process (the JSON API and the
app shells, bench/replica_server.py), rounds alternating archiving, bare;
crawl_ratio (here `crawl_ratio_api`) is the median over pairs of archiving
pages/s over bare pages/s, as for the HTML crawl (bench/run.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.run import ReplicaProcess, crawl_round, log, summarise_crawl


def bench_crawl_api(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    articles = cfg["api_articles"]
    log(f"crawl_api: replica --layout app with {articles} articles, JSON API walked by both crawls")
    with ReplicaProcess(articles, layout="app") as replica:
        rows = [
            crawl_round(kind, replica, work, pair, api=True)
            for pair in range(1, cfg["api_pairs"] + 1)
            for kind in ("archiving", "bare")
        ]
    return {**summarise_crawl(rows), "articles": articles}
