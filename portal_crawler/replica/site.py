"""Routing: a request target to the replica's response (no sockets here).

Legacy layout: ``/``, ``/news-and-events.html?Page=N``, articles
``/<section>/<slug>-t<ID>.html`` (any section, any slug), old links
``/<anything>.aspx?ItemID=<N>`` (served as the article ``t<N>`` itself, with
``<link rel="canonical">`` to its proper URL), photos
``/Uploads/images/YYYY/MM/DD/<id>-<n>.jpg|png``.
Current layout: ``/``, ``/news.html?Page=N``, ``/article/<slug>-<10 digits>``,
``/uploads/YYYY/MM/DD/<id>-<n>.jpg|png``.
App layout (``app.py``): the current layout's URLs, with pages as script-filled
shells and a JSON API under ``/backend-portal/``.
All: ``/css/style.css``, ``/js/main.js``, ``/images/logo.png``,
``/robots.txt``, ``/search``; ``/go-away`` with ``redirect_offsite``.
Extra query parameters (``?utm_source=x``) are ignored everywhere; only the
*last* ``Page`` value counts on listings.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from functools import partial
from urllib.parse import parse_qs, parse_qsl, urlsplit

from portal_crawler.replica import assets, current, drift, legacy
from portal_crawler.replica.cache import LRU
from portal_crawler.replica.drift import Drift
from portal_crawler.replica.faults import Faults
from portal_crawler.replica.responses import Response, validated
from portal_crawler.replica.store import ArticleStore
from portal_crawler.replica.variants import fallback_page
from portal_crawler.replica.views import ArticleView, ListingView

PER_PAGE = 10
OTHER_NEWS = 8
HUGE = 5_000_000
CACHE_LIMIT = 1_000_000  # bigger pages (the "huge" fault) are rebuilt on each request
ROUTES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "legacy": (
        re.compile(r"/[\w.-]+/(?:[^/]*-)?(t\d+)\.html"),
        re.compile(r"/Uploads/images/\d{4}/\d{2}/\d{2}/(t\d+)-\d+\.(?:jpg|png)"),
    ),
    "current": (
        re.compile(r"/article/(?:[^/]*-)?(\d{10})"),
        re.compile(r"/uploads/\d{4}/\d{2}/\d{2}/(\d{10})-\d+\.(?:jpg|png)"),
    ),
}
ROUTES["app"] = ROUTES["current"]
OLD_LINK = re.compile(r"/[\w/.-]*\.aspx", re.IGNORECASE)


def last_page(query: str) -> int:
    """The last ``Page`` value in a query (the portal honours the last one)."""
    values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() == "page"]
    try:
        return max(1, int(values[-1])) if values else 1
    except ValueError:
        return 1


class Site:
    """The replica's pages for one layout, cached until the next change."""

    def __init__(self, store: ArticleStore, faults: Faults, layout: str) -> None:
        self.store, self.faults, self.layout_name = store, faults, layout
        self.layout = legacy if layout == "legacy" else current
        self.article_route, self.image_route = ROUTES[layout]
        self.cache: LRU[Response] = LRU(1024)  # about 60 MB at most, gzip copies included
        self.drift = Drift()
        self.gate = self.drift.gate()

    def set_drift(self, setting: Drift) -> None:
        """Serve pages in another markup from now on (see ``drift.py``); challenge counts restart."""
        self.drift, self.gate = setting, setting.gate()
        self.invalidate()

    def invalidate(self) -> None:
        """Forget rendered pages (after an add, edit, delete or fault change)."""
        self.cache.clear()

    def respond(self, target: str, headers: Mapping[str, str] | None = None) -> Response:
        """The answer to one request target; ``headers`` (lower-case names) matter only to the app layout."""
        parts = urlsplit(target)
        path, query = parts.path, parts.query
        if path == self.layout.LISTING:
            return self.cached(("listing", query), lambda: self.listing(query))
        for route, kind in ((self.article_route, "article"), (self.image_route, "image")):
            match = route.fullmatch(path)
            if match:
                build = self.article if kind == "article" else self.image
                return self.cached((kind, path), partial(build, match.group(1), path))
        if self.layout is legacy and OLD_LINK.fullmatch(path):
            item = parse_qs(query).get("ItemID", [""])[-1]
            if item.isdigit():
                return self.cached(("article", f"t{int(item)}"), lambda: self.article(f"t{int(item)}", path))
        return self.other(path)

    def cached(self, key: tuple, build: Callable[[], Response]) -> Response:
        """A page from the cache, or built now (and kept unless it is huge)."""
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        response = build()
        return response if len(response.body) > CACHE_LIMIT else self.cache.put(key, response)

    def other(self, path: str) -> Response:
        if path in assets.STATIC:
            body, content_type = assets.STATIC[path]
            return Response(200, body, content_type, compressible=not content_type.startswith("image"))
        if path == "/":
            return Response(200, self.layout.home_page(self.store.page(1, PER_PAGE)).encode("utf-8"))
        if path == "/go-away" and self.faults.redirect:
            return Response(302, b"", headers=[("Location", self.faults.redirect)])
        if path == "/search":
            return Response(200, self.layout.simple_page("Search", "Type a keyword.").encode("utf-8"))
        return self.not_found()

    def not_found(self) -> Response:
        page = self.layout.simple_page("Page not found", "The page you requested does not exist.")
        return Response(404, page.encode("utf-8"))

    def listing(self, query: str) -> Response:
        number = last_page(query)
        pages = -(-len(self.store) // PER_PAGE)
        view = ListingView(self.store.page(number, PER_PAGE), number, pages, query)
        page = drift.listing_page(view, self.layout_name, self.drift.variant)
        return Response(200, page.encode("utf-8"), cookies=True)

    def article(self, article_id: str, path: str) -> Response:
        article = self.store.get(article_id)
        if article is None:
            return self.not_found()
        has = lambda name: self.faults.has(name, article.id)  # noqa: E731
        charset = "windows-1252" if has("non_utf8") else "utf-8"
        size = HUGE if has("huge") else random.Random(f"size:{article.id}").randint(20_000, 40_000)
        view = ArticleView(
            article,
            self.store.following(article.key, OTHER_NEWS),
            size,
            show_date=not has("no_date"),
            show_byline=not has("no_byline"),
            offsite_link=has("offsite_link"),
            charset=charset,
        )
        if has("fallback_layout"):
            page = fallback_page(view)
        else:
            page = drift.article_page(view, self.layout_name, self.drift.variant)
        body = page.encode(charset, "xmlcharrefreplace")
        response = Response(200, body, f"text/html; charset={charset}")
        return validated(response, article.stamp + 3600 * article.version)

    def image(self, article_id: str, path: str) -> Response:
        article = self.store.get(article_id)
        if article is None or path not in article.images:
            return self.not_found()
        body, content_type = assets.image(path)
        return validated(Response(200, body, content_type, compressible=False), article.stamp)
