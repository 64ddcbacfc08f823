"""The replica portal: configuration, lifecycle and test controls.

Layouts: ``legacy`` (2017 to 2024 URLs and template), ``current`` (2025+ URLs
and server-rendered template) and ``app`` (2025+ URLs, pages as shells a
script fills from the JSON API under ``/backend-portal/``; see ``app.py``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass
from types import TracebackType

from portal_crawler.replica import api
from portal_crawler.replica.app import AppSite
from portal_crawler.replica.articles import Article
from portal_crawler.replica.drift import Drift
from portal_crawler.replica.faults import Faults
from portal_crawler.replica.server import ReplicaServer
from portal_crawler.replica.site import Site
from portal_crawler.replica.store import ArticleStore

LAYOUTS = ("legacy", "current", "app")
LISTINGS = {"legacy": "/news-and-events.html", "current": "/news.html", "app": "/news.html"}


@dataclass(frozen=True)
class ReplicaConfig:
    """What to serve and where: ``articles`` generated besides the 5 seeds."""

    articles: int = 200
    layout: str = "legacy"
    seed: int = 1
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port, read it back from Replica.port
    drift: str | None = None  # a variant of drift.VARIANTS; None: the layout as documented
    challenge_first: int | None = None  # only the first N requests meet the challenge
    challenge_kind: str = "incapsula"  # or "cloudflare"
    challenge_status: int | None = None  # None: the kind's own (incapsula 200, cloudflare 403)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {self.layout!r}")
        if self.layout == "app" and self.drift not in (None, "challenge"):
            raise ValueError(f"drift {self.drift!r} does not apply to the app layout (only challenge does)")
        if self.articles < 0:
            raise ValueError("articles must be 0 or more")
        self.drift_setting()  # raises ValueError for a bad variant, kind or status

    def drift_setting(self) -> Drift:
        return Drift(self.drift, self.challenge_first, self.challenge_kind, self.challenge_status)


class Replica:
    """A replica portal served from a background thread on loopback."""

    def __init__(self, config: ReplicaConfig | None = None) -> None:
        self.config = config or ReplicaConfig()
        self.store = ArticleStore(self.config.articles, self.config.seed, self.config.layout == "legacy")
        self.faults = Faults()
        site = AppSite if self.config.layout == "app" else Site
        self.site = site(self.store, self.faults, self.config.layout)
        self.site.set_drift(self.config.drift_setting())
        self.server_name = "Microsoft-IIS/10.0" if self.config.layout == "legacy" else "nginx"
        self.stopping = threading.Event()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._sessions = itertools.count(1)
        self._server: ReplicaServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------
    def start(self) -> Replica:
        """Bind and serve in a daemon thread; returns at once."""
        if self._server is None:
            self.stopping.clear()
            self._server = ReplicaServer((self.config.host, self.config.port), self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="replica-server"
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections, release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the replica is not running: call start() first")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def listing_url(self) -> str:
        return self.base_url + LISTINGS[self.config.layout]

    # counts --------------------------------------------------------------
    def count(self, target: str) -> None:
        with self._lock:
            self._counts[target] += 1

    def counts(self) -> dict[str, int]:
        """Requests served per request target (path?query as requested)."""
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def cookies(self) -> list[str]:
        """The two cookies a listing page sets (session ID deterministic per start)."""
        session = hashlib.sha1(f"{self.config.seed}:{next(self._sessions)}".encode()).hexdigest()[:24]
        if self.config.layout == "legacy":
            return [f"ASP.NET_SessionId={session}; path=/; HttpOnly", "lang=en; path=/"]
        return [f"portal_session={session}; path=/; HttpOnly; SameSite=Lax", "lang=en; path=/"]

    # content -------------------------------------------------------------
    def articles(self) -> list[Article]:
        """Every live article, newest first."""
        return self.store.all()

    def article(self, article_id: str | int) -> Article | None:
        return self.store.get(article_id)

    def article_url(self, article_id: str | int) -> str:
        article = self.store.get(article_id)
        if article is None:
            raise KeyError(f"no article {article_id!r} on the replica")
        return self.base_url + article.url_path

    def api_id(self, article_id: str | int) -> int:
        """The app layout's API ``articleId`` of an article (``/backend-portal/articles/<articleId>``)."""
        article = self.store.get(article_id)
        if article is None:
            raise KeyError(f"no article {article_id!r} on the replica")
        return api.article_id(article)

    def add_articles(self, count: int) -> list[Article]:
        """``count`` new articles, newer than all, on top of page 1."""
        added = self.store.add(count)
        self.site.invalidate()
        return added

    def edit_article(self, article_id: str | int) -> Article:
        """Change the article's body text (one more update paragraph)."""
        edited = self.store.edit(article_id)
        self.site.invalidate()
        return edited

    def delete_article(self, article_id: str | int) -> None:
        """The article answers 404 and leaves the listings."""
        self.store.delete(article_id)
        self.site.invalidate()

    def set_faults(self, **options: object) -> None:
        """Replace the fault set (see ``portal_crawler.replica.faults``)."""
        self.faults.configure(**options)
        self.site.invalidate()

    def set_drift(
        self,
        variant: str | None = None,
        *,
        challenge_first: int | None = None,
        challenge_kind: str = "incapsula",
        challenge_status: int | None = None,
        challenge_pattern: str = "",
    ) -> Drift:
        """Replace the drift setting (see ``portal_crawler.replica.drift``); ``set_drift()`` ends it."""
        setting = Drift(variant, challenge_first, challenge_kind, challenge_status, challenge_pattern)
        self.site.set_drift(setting)
        return setting

    @property
    def drift(self) -> Drift:
        return self.site.drift

    # HTTP controls ---------------------------------------------------------
    def control(self, method: str, path: str, raw: bytes) -> tuple[int, object]:
        """Answer one ``/_replica/...`` request: (status, JSON payload)."""
        route = path.split("?", 1)[0]
        if method == "GET" and route == "/_replica/counts":
            return 200, self.counts()
        if method == "GET" and route == "/_replica/articles":
            return 200, [self.listed(a) for a in self.articles()]
        if method == "POST" and route == "/_replica/reset":
            self.reset_counts()
            return 200, {"ok": True}
        if method == "POST" and route == "/_replica/control":
            return 200, self.apply(json.loads(raw or b"{}"))
        return 404, {"error": f"no control {method} {route}"}

    def listed(self, article: Article) -> dict[str, object]:
        """One entry of ``/_replica/articles`` (with its API ``articleId`` in the app layout)."""
        entry: dict[str, object] = {"id": article.id, "url": article.url_path, "title": article.title}
        entry["published"] = article.published.isoformat()
        if self.config.layout == "app":
            entry["articleId"] = api.article_id(article)
        return entry

    def apply(self, orders: dict) -> dict:
        """Carry out a control body: add, edit, delete, faults, drift."""
        unknown = set(orders) - {"add", "edit", "delete", "faults", "drift"}
        if unknown:
            raise ValueError(f"unknown control(s): {', '.join(sorted(unknown))}")
        done: dict[str, object] = {"ok": True}
        if "faults" in orders:
            self.set_faults(**(orders["faults"] or {}))
        if "drift" in orders:
            setting = Drift.parse(orders["drift"])
            self.site.set_drift(setting)
            done["drift"] = setting.as_dict()
        if "add" in orders:
            done["added"] = [a.id for a in self.add_articles(int(orders["add"]))]
        if "edit" in orders:
            done["edited"] = self.edit_article(orders["edit"]).id
        if "delete" in orders:
            self.delete_article(orders["delete"])
            done["deleted"] = str(orders["delete"])
        return done
