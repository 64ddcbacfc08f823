"""The replica's collection of articles: seeds plus generated, newest first.

Only the listing order (one int per article) is held in memory; an article is
built on demand from (seed, index) and kept in a bounded LRU, so 50,000
articles start in a fraction of a second. Edits and deletions are small
per-key maps. All methods are safe to call from the server's threads.
"""

from __future__ import annotations

import bisect
import re
import threading
from datetime import date

from portal_crawler.replica import articles
from portal_crawler.replica.articles import Article, Identity
from portal_crawler.replica.cache import LRU
from portal_crawler.replica.timeline import Timeline, seed_stamp

GENERATED_BASE = 10000  # legacy ID of generated article 0: t10000
LEGACY_ID = re.compile(r"t(\d+)")
STAMP_ID = re.compile(r"\d{10}")


class ArticleStore:
    """Seeds and generated articles for one layout and seed number."""

    def __init__(self, generated: int, seed: int, legacy: bool) -> None:
        self.seed, self.legacy = seed, legacy
        self.timeline = Timeline(generated)
        self.total = generated  # generated articles so far, added ones included
        self.records = articles.load_seeds()
        self.seed_stamps = [seed_stamp(date.fromisoformat(r["published"])) for r in self.records]
        self.versions: dict[int, int] = {}
        self.deleted: set[int] = set()
        self._cache: LRU[Article] = LRU(4096)
        self._lock = threading.RLock()
        self.order: list[int] = []  # keys, newest first
        self.negated: list[int] = []  # -stamp of each key in order, ascending
        self._initial_order()

    def _initial_order(self) -> None:
        """Generated indices newest first, with the seeds merged in by stamp."""
        self.order = list(range(self.total - 1, -1, -1))
        self.negated = [-self.timeline.stamp(i) for i in self.order]
        for number, stamp in enumerate(self.seed_stamps):
            at = bisect.bisect_left(self.negated, -stamp)
            self.negated.insert(at, -stamp)
            self.order.insert(at, -1 - number)

    def position(self, key: int) -> int | None:
        """Where a key sits in the listing order (0 = newest), or None."""
        at = bisect.bisect_left(self.negated, -self.stamp(key))
        return at if at < len(self.order) and self.order[at] == key else None

    def stamp(self, key: int) -> int:
        return self.seed_stamps[-1 - key] if key < 0 else self.timeline.stamp(key)

    def identity(self, key: int) -> Identity:
        if not self.legacy:
            return Identity(str(self.stamp(key)), False)
        if key < 0:
            return Identity(self.records[-1 - key]["legacy_id"], True)
        return Identity(f"t{GENERATED_BASE + key}", True)

    def key_of(self, article_id: str | int) -> int | None:
        """The key of a live article with this ID, or None."""
        text = str(article_id)
        for key in range(-1, -1 - len(self.records), -1):
            if self.identity(key).id == text:
                return None if key in self.deleted else key
        found = self._generated_key(text)
        if found is None or not 0 <= found < self.total or found in self.deleted:
            return None
        return found

    def _generated_key(self, text: str) -> int | None:
        if self.legacy:
            match = LEGACY_ID.fullmatch(text)
            return int(match.group(1)) - GENERATED_BASE if match else None
        return self.timeline.index_of(int(text)) if STAMP_ID.fullmatch(text) else None

    def build(self, key: int) -> Article:
        """The article for a key, from the cache or built now."""
        version = self.versions.get(key, 0)
        cached = self._cache.get((key, version))
        if cached is not None:
            return cached
        ident = self.identity(key)
        if key < 0:
            article = articles.from_seed(self.records[-1 - key], key, ident, self.stamp(key), version, self.seed)
        else:
            article = articles.generated(self.seed, key, ident, self.stamp(key), self.timeline.published(key), version)
        return self._cache.put((key, version), article)

    def get(self, article_id: str | int) -> Article | None:
        key = self.key_of(article_id)
        return None if key is None else self.build(key)

    def live(self, key: int) -> Article | None:
        """The article with this key, or None when there is none or it was deleted."""
        with self._lock:
            known = -len(self.records) <= key < self.total and key not in self.deleted
        return self.build(key) if known else None

    def span(self, oldest: int | None, newest: int | None, start: int, count: int) -> tuple[int, list[Article]]:
        """How many articles have ``oldest <= stamp <= newest`` (None: unbounded), and ``count`` of them from ``start``.

        The order is by stamp, newest first, so the range is two bisections.
        """
        with self._lock:
            low = 0 if newest is None else bisect.bisect_left(self.negated, -newest)
            high = len(self.negated) if oldest is None else bisect.bisect_right(self.negated, -oldest)
            high = max(low, high)
            keys = self.order[min(high, low + start) : min(high, low + start + count)]
        return high - low, [self.build(key) for key in keys]

    def __len__(self) -> int:
        return len(self.order)

    def page(self, number: int, per_page: int) -> list[Article]:
        """Listing page ``number`` (from 1); empty past the last page."""
        with self._lock:
            keys = self.order[(number - 1) * per_page : number * per_page] if number > 0 else []
        return [self.build(key) for key in keys]

    def following(self, key: int, count: int) -> list[Article]:
        """The ``count`` articles listed after this one (its "Other news")."""
        with self._lock:
            at = self.position(key)
            at = len(self.order) if at is None else at
            keys = self.order[at + 1 : at + 1 + count]
        return [self.build(k) for k in keys]

    def all(self) -> list[Article]:
        with self._lock:
            keys = list(self.order)
        return [self.build(key) for key in keys]

    def add(self, count: int) -> list[Article]:
        """``count`` new articles, newest on top of page 1."""
        with self._lock:
            keys = list(range(self.total, self.total + count))
            self.total += count
            self.order[:0] = reversed(keys)
            self.negated[:0] = [-self.stamp(k) for k in reversed(keys)]
        return [self.build(key) for key in reversed(keys)]

    def edit(self, article_id: str | int) -> Article:
        with self._lock:
            key = self._require(article_id)
            self.versions[key] = self.versions.get(key, 0) + 1
        return self.build(key)

    def delete(self, article_id: str | int) -> None:
        with self._lock:
            key = self._require(article_id)
            self.deleted.add(key)
            at = self.position(key)
            if at is not None:
                del self.order[at], self.negated[at]

    def _require(self, article_id: str | int) -> int:
        key = self.key_of(article_id)
        if key is None:
            raise KeyError(f"no article {article_id!r} on the replica")
        return key
