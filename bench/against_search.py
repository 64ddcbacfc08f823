"""Run by bench.against in each tree: the search latency of that tree's `search()` on a given catalogue.

    python bench/against_search.py CATALOGUE QUERIES.json      (cwd and PYTHONPATH: the tree to measure)

Imports nothing of this tree's bench package, so it runs under a release's code as well; the
queries come from bench.search_bench in the parent. Prints one JSON line: p50 and p95 in ms.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path


def main(catalogue_path: str, queries_path: str) -> None:
    from portal_crawler.catalogue import Catalogue

    try:
        from portal_crawler.desk.search import search
    except ImportError:  # 0.1.0: one flat package
        from portal_crawler.search import search  # type: ignore[no-redef]

    queries = json.loads(Path(queries_path).read_text())
    path = Path(catalogue_path)  # opened as that release's search command opens it
    catalogue = Catalogue.reader(path) if hasattr(Catalogue, "reader") else Catalogue(path, create=False)
    timings = []
    for query, filters in queries:
        started = time.perf_counter()
        search(catalogue, query, limit=20, **filters)
        timings.append((time.perf_counter() - started) * 1000)
    catalogue.close()
    print(json.dumps({"p50_ms": statistics.median(timings), "p95_ms": statistics.quantiles(timings, n=20)[18]}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
