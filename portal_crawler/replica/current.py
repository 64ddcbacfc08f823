"""The current template (2025 on): ``/article/<slug>-<10 digits>`` URLs.

Class names follow PORTAL.md and are a contract with the site profile:
``article.article-detail``, ``h1.article__title``, ``div.article__meta
time[datetime]``, ``div.article__body`` (``p``; photos as ``figure.image`` with
``img`` and ``figcaption``, then the caption again as ``p.img-desc``; the
byline ``p.author`` last), then ``div.search-box``; listings
``article.story`` (``h2.story__title a``, ``p.story__summary``,
``time.story__time``) and ``nav.pagination`` with ``rel=next``.
"""

from __future__ import annotations

from portal_crawler.replica import markup
from portal_crawler.replica.articles import Article
from portal_crawler.replica.markup import esc
from portal_crawler.replica.views import (
    FILL,
    OFFSITE_HOST,
    ArticleView,
    ListingView,
    PageSet,
    pad,
)

LISTING = "/news.html"
SECTIONS = [
    "Home",
    "News",
    "Social activities",
    "International relations",
    "Legal documents",
    "Public services",
    "Contact",
]
BODY_OPEN = '<div class="article__body">\n'
SEARCH_BOX = '<div class="search-box"><input name="keyword"><button>Search</button></div>\n'
HEADER = (
    '<header class="site-header"><a class="logo" href="/"><img src="/images/logo.png" '
    'alt="Ministry of Public Security"></a>\n<nav class="main-nav"><ul>'
    + "".join(f'<li><a href="{"/" if s == "Home" else LISTING if s == "News" else "#"}">{s}</a></li>' for s in SECTIONS)
    + '</ul></nav>\n<form class="search-form" action="/search"><input name="keyword">'
    "<button>Search</button></form></header>\n"
)
FOOTER = (
    '<footer class="site-footer"><p>Ministry of Public Security of the Socialist Republic '
    "of Viet Nam</p><p>44 Yet Kieu, Hoan Kiem, Ha Noi</p>"
    "<p>&copy; MPS. All rights reserved.</p></footer>\n"
)


def page(title: str, main: str, charset: str = "utf-8", extra_head: str = "") -> str:
    """The whole document around ``main``, with its app-state FILL marker."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="{charset}">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n{extra_head}"
        '<link rel="stylesheet" href="/css/style.css">\n<script src="/js/main.js" defer></script>\n'
        f'</head>\n<body>\n{HEADER}<main class="container">\n{main}</main>\n{FOOTER}'
        f'<script type="application/json" id="app-state">{{"state":"{FILL}"}}</script>\n'
        "</body>\n</html>\n"
    )


def figure(image: str, caption: str | None) -> str:
    if not caption:
        return f'<figure class="image"><img src="{esc(image)}" alt=""></figure>\n'
    return (
        f'<figure class="image"><img src="{esc(image)}" alt="{esc(caption)}">\n'
        f"  <figcaption>{esc(caption)}</figcaption></figure>\n"
        f'<p class="img-desc">{esc(caption)}</p>\n'
    )


def body(view: ArticleView) -> str:
    """``div.article__body``: paragraphs and photos in order, the byline last."""
    rng, article, parts = view.rng, view.article, []
    for block in article.blocks:
        if block.kind == "p":
            parts.append(markup.paragraph(block.text or "", rng) + "\n")
        else:
            parts.append(figure(block.image or "", block.text) + markup.maybe_empty(rng, 0.3))
    parts.append(markup.maybe_empty(rng))
    if article.byline and view.show_byline:
        parts.append(byline_line(article.byline))
    return BODY_OPEN + "".join(parts) + "</div>\n"


def byline_line(byline: str) -> str:
    """The byline, last in the body."""
    return f'<p class="author">{esc(byline)}</p>\n'


def date_line(article: Article) -> str:
    """The meta line under the title: the date in ``<time datetime>``."""
    return (
        f'<div class="article__meta"><time datetime="{article.published.isoformat()}">'
        f"{article.date_text}</time></div>\n"
    )


def related(view: ArticleView) -> str:
    items = [
        f'<li><a href="{esc(a.url_path)}">{esc(a.title)}</a> '
        f'<time datetime="{a.published.isoformat()}">{a.published:%d/%m/%Y}</time></li>'
        for a in view.others
    ]
    if view.offsite_link:
        items.append(f'<li><a href="{OFFSITE_HOST}/news/{view.article.id}">Partner news</a></li>')
    return '<aside class="related-news"><h3>Other news</h3><ul>\n' + "\n".join(items) + "</ul></aside>\n"


def article_page(view: ArticleView) -> str:
    article = view.article
    meta = date_line(article) if view.show_date else ""
    detail = (
        f'<article class="article-detail">\n<h1 class="article__title">{esc(article.title)}'
        f"</h1>\n{meta}{body(view)}</article>\n"
    )
    head = (
        f'<meta name="description" content="{esc(article.summary)}">\n'
        f'<link rel="canonical" href="{esc(article.url_path)}">\n'
    )
    html_text = page(article.title, detail + SEARCH_BOX + related(view), view.charset, head)
    return pad(html_text, view.size, view.rng)


def pagination(view: ListingView) -> str:
    """Numbered links around the current page, with ``rel=prev``/``rel=next``."""

    def link(number: int, text: str, rel: str = "") -> str:
        rel_attr = f' rel="{rel}"' if rel else ""
        return f'<a{rel_attr} href="{LISTING}?Page={number}">{text}</a>'

    links = [link(view.page - 1, "‹", "prev")] if 1 < view.page <= view.pages + 1 else []
    numbers = PageSet(view.page, view.pages, view.window).numbers
    if numbers and numbers[0] > 1:
        links.append(link(1, "1"))
    links += [f'<a class="active">{n}</a>' if n == view.page else link(n, str(n)) for n in numbers]
    if numbers and numbers[-1] < view.pages:
        links.append(link(view.pages, str(view.pages)))
    if view.page < view.pages:
        links.append(link(view.page + 1, "›", "next"))
    return '<nav class="pagination">' + " ".join(links) + "</nav>\n"


def listing_page(view: ListingView) -> str:
    items = [
        f'<article class="story">\n<h2 class="story__title"><a href="{esc(a.url_path)}">'
        f'{esc(a.title)}</a></h2>\n<p class="story__summary">{esc(a.summary)}</p>\n'
        f'<time class="story__time" datetime="{a.published.isoformat()}">'
        f"{a.published:%d/%m/%Y}</time>\n</article>\n"
        for a in view.items
    ]
    main = '<section class="category-news">\n' + "".join(items) + "</section>\n" + pagination(view)
    return page("News", main).replace(FILL, "", 1)


def home_page(latest: list[Article]) -> str:
    items = "".join(f'<li><a href="{esc(a.url_path)}">{esc(a.title)}</a></li>\n' for a in latest)
    main = f'<section class="home"><h2><a href="{LISTING}">News</a></h2>\n<ul>\n{items}</ul></section>\n'
    return page("Ministry of Public Security", main).replace(FILL, "", 1)


def simple_page(title: str, message: str) -> str:
    main = f'<div class="message"><h1>{esc(title)}</h1><p>{esc(message)}</p></div>\n'
    return page(title, main).replace(FILL, "", 1)
