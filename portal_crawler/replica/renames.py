"""Class renames for the ``renamed`` and ``neutral`` drift variants.

A CMS redesign often keeps the page's structure and renames every class:
to other meaningful names (``renamed``: ``article-body``, ``article-title``,
``article-date``), or to build-tool names that mean nothing (``neutral``:
``b-1`` body, ``t-1`` title, ``m-1`` date). Both maps cover every class the
legacy and current layouts print, so no original class name survives; a
class missing from a map is a bug the drift tests catch.
"""

from __future__ import annotations

import re

RENAMED = {
    # article pages
    "news-detail": "article-main",
    "article-detail": "article-main",
    "detail-title": "article-title",
    "article__title": "article-title",
    "detail-date": "article-date",
    "article__meta": "article-date",
    "detail-content": "article-body",
    "article__body": "article-body",
    "image-center": "photo",
    "image": "photo",
    "image-caption": "photo-caption",
    "img-desc": "photo-note",
    "author": "article-author",
    "view-count": "article-views",
    "other-news": "more-news",
    "related-news": "more-news",
    "search-box": "search-panel",
    # listing pages
    "list-news": "news-list",
    "category-news": "news-list",
    "news-item": "news-entry",
    "story": "news-entry",
    "news-date": "news-entry-date",
    "story__time": "news-entry-date",
    "news-title": "news-entry-title",
    "story__title": "news-entry-title",
    "news-sapo": "news-entry-summary",
    "story__summary": "news-entry-summary",
    "paging": "pager",
    "pagination": "pager",
    "active": "current",
    # surroundings
    "top-notice": "site-notice",
    "logo": "brand",
    "menu": "nav-menu",
    "has-sub": "nav-group",
    "sub": "nav-sub",
    "site-header": "page-header",
    "main-nav": "nav-main",
    "search-form": "search-bar",
    "container": "page-content",
    "site-footer": "page-footer",
    "aspNetHidden": "hidden-state",
    "home": "home-news",
    "latest": "latest-news",
}

NEUTRAL = {
    "news-detail": "a-1",
    "article-detail": "a-1",
    "detail-title": "t-1",
    "article__title": "t-1",
    "detail-date": "m-1",
    "article__meta": "m-1",
    "detail-content": "b-1",
    "article__body": "b-1",
    "image-center": "f-1",
    "image": "f-1",
    "image-caption": "c-1",
    "img-desc": "c-2",
    "author": "m-2",
    "view-count": "m-3",
    "other-news": "r-1",
    "related-news": "r-1",
    "search-box": "s-1",
    "list-news": "l-1",
    "category-news": "l-1",
    "news-item": "l-2",
    "story": "l-2",
    "news-date": "l-3",
    "story__time": "l-3",
    "news-title": "l-4",
    "story__title": "l-4",
    "news-sapo": "l-5",
    "story__summary": "l-5",
    "paging": "p-1",
    "pagination": "p-1",
    "active": "p-2",
    "top-notice": "h-1",
    "logo": "h-2",
    "menu": "h-3",
    "has-sub": "h-4",
    "sub": "h-5",
    "site-header": "h-6",
    "main-nav": "h-3",
    "search-form": "s-2",
    "container": "g-1",
    "site-footer": "g-2",
    "aspNetHidden": "g-3",
    "home": "g-4",
    "latest": "g-5",
}

CLASS_ATTRIBUTE = re.compile(r'class="([^"]*)"')


def rename_classes(page: str, names: dict[str, str]) -> str:
    """Every ``class="..."`` token mapped through ``names`` (by hand: an HTML
    parser would re-serialise the page and lose the portal's entity quirks)."""

    def swap(match: re.Match[str]) -> str:
        return 'class="' + " ".join(names.get(token, token) for token in match.group(1).split()) + '"'

    return CLASS_ATTRIBUTE.sub(swap, page)
