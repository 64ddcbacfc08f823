"""The app layout (2025+ portal): the current layout's URLs, pages as shells, text from the API.

``/`` and ``/news.html`` (any query) answer the listing shell, ``/article/<slug>-<10
digits>`` the article's shell (404 when there is no such article), photos,
``/css/style.css``, ``/images/logo.png`` and ``/robots.txt`` as in the current
layout, ``/js/portal-app.js`` the script (``app_assets.py``), and
``/backend-portal/articles/...`` the JSON API (``api.py``), which reads the
request's ``Portal-Id`` header. Drift variants do not apply (only the
challenge, which stands in front of every layout).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from urllib.parse import urlsplit

from portal_crawler.replica import api, app_assets, vietnamese
from portal_crawler.replica.drift import Drift
from portal_crawler.replica.responses import Response, validated
from portal_crawler.replica.site import Site

ENGLISH = "28"
LISTINGS = ("/", "/news.html")


class AppSite(Site):
    """Shells, the script and the API over the same article store."""

    def set_drift(self, setting: Drift) -> None:
        if setting.variant not in (None, "challenge"):
            raise ValueError(f"drift {setting.variant!r} does not apply to the app layout (only challenge does)")
        super().set_drift(setting)

    def respond(self, target: str, headers: Mapping[str, str] | None = None) -> Response:
        """The answer to one request; ``headers`` with lower-case names (``portal-id``)."""
        parts = urlsplit(target)
        path, query = parts.path, parts.query
        if path.startswith(api.API_PREFIX):
            tree = (headers or {}).get("portal-id", "").strip()
            return self.backend(target, path, query, tree)
        if path in LISTINGS:
            return self.cached(("shell", "listing"), self.listing_shell)
        if path in app_assets.STATIC:
            body, content_type = app_assets.STATIC[path]
            return Response(200, body, content_type)
        article = self.article_route.fullmatch(path)
        if article:
            return self.cached(("shell", article.group(1)), partial(self.article_shell, article.group(1)))
        image = self.image_route.fullmatch(path)
        if image:
            return self.cached(("image", path), partial(self.image, image.group(1), path))
        return self.other(path)

    def listing_shell(self) -> Response:
        newest = self.store.page(1, 1)
        modified = newest[0].stamp if newest else 0
        body = app_assets.listing_shell().encode("utf-8")
        return validated(Response(200, body, cookies=True), modified)

    def article_shell(self, stamp_id: str) -> Response:
        article = self.store.get(stamp_id)
        if article is None:
            return self.not_found()
        body = app_assets.article_shell(api.article_id(article)).encode("utf-8")
        return validated(Response(200, body), article.stamp + 3600 * article.version)

    # the API ---------------------------------------------------------------
    def backend(self, target: str, path: str, query: str, tree: str) -> Response:
        """A listing or detail answer, or the app fault that stands in for it."""
        listing = path == api.SEARCH
        if self.faults.spend("api_not_json", target):
            return api.not_json()
        if listing and self.faults.spend("api_no_items", target):
            return api.answer(200, api.NO_ITEMS)
        if listing:
            try:
                asked = api.Query.parse(query)
            except api.BadRequest as error:
                return api.failure(400, f"Bad request: {error}")
            return self.cached(("api", tree, asked), partial(self.search, asked, tree))
        match = api.DETAIL.fullmatch(path)
        if match is None:
            return api.failure(404, "Not found")
        if not api.INTEGER.fullmatch(match.group(1)):
            return api.failure(400, "Bad request: the article ID must be a number")
        wanted = int(match.group(1))
        return self.cached(("api", tree, wanted), partial(self.detail, wanted, tree))

    def search(self, asked: api.Query, tree: str) -> Response:
        if tree in vietnamese.PORTALS:
            return api.ok(vietnamese.listing(asked))
        if tree != ENGLISH or not asked.news:
            return api.ok(api.page_of(asked, 0, []))
        oldest, newest = asked.stamps()
        total, found = self.store.span(oldest, newest, asked.page * asked.size, asked.size)
        return api.ok(api.page_of(asked, total, [api.item(article) for article in found]))

    def detail(self, wanted: int, tree: str) -> Response:
        if tree in vietnamese.PORTALS:
            data = vietnamese.detail(wanted)
            return api.failure(404, "Not found") if data is None else api.ok(data)
        article = self.store.live(api.key_of(wanted)) if tree == ENGLISH else None
        if article is None:
            return api.failure(404, "Not found")
        has = lambda name: self.faults.has(name, article.id)  # noqa: E731
        response = api.ok(api.detail(article, show_date=not has("no_date"), show_byline=not has("no_byline")))
        return validated(response, article.stamp + 3600 * article.version)
