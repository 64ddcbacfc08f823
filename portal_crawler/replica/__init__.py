"""The replica portal: a small deterministic HTTP server every test crawls.

    from portal_crawler.replica import Replica, ReplicaConfig
    with Replica(ReplicaConfig(articles=200, layout="legacy")) as replica:
        replica.listing_url  # http://127.0.0.1:PORT/news-and-events.html

    with Replica(ReplicaConfig(layout="app")) as replica: ...  # 2025+ shells over /backend-portal/ JSON
    with Replica(ReplicaConfig(drift="neutral")) as replica: ...  # pages in altered markup
    replica.set_drift("challenge", challenge_first=5)  # the next 5 requests meet a bot wall

See ``replica.py`` (Python API), ``site.py`` (URLs), ``app.py`` and ``api.py``
(the app layout and its JSON API), ``faults.py`` (fault options), ``drift.py``
(drift variants), ``walls.py`` (challenge and app-shell pages).
"""

from portal_crawler.replica.articles import Article, Block
from portal_crawler.replica.drift import VARIANTS as DRIFT_VARIANTS
from portal_crawler.replica.drift import Drift
from portal_crawler.replica.replica import Replica, ReplicaConfig
from portal_crawler.replica.serve import main, serve, serve_forever

__all__ = [
    "DRIFT_VARIANTS",
    "Article",
    "Block",
    "Drift",
    "Replica",
    "ReplicaConfig",
    "main",
    "serve",
    "serve_forever",
]
