"""The replica portal: a small deterministic HTTP server every test crawls.

    from portal_crawler.replica import Replica, ReplicaConfig
    with Replica(ReplicaConfig(articles=200, layout="legacy")) as replica:
        replica.listing_url  # http://127.0.0.1:PORT/news-and-events.html

See ``replica.py`` (API), ``site.py`` (URLs), ``faults.py`` (fault options).
"""

from portal_crawler.replica.articles import Article, Block
from portal_crawler.replica.replica import Replica, ReplicaConfig
from portal_crawler.replica.serve import main, serve, serve_forever

__all__ = ["Article", "Block", "Replica", "ReplicaConfig", "main", "serve", "serve_forever"]
