"""The ``redesign`` drift variant: a new CMS theme that changes everything at once.

Same URLs (the layout's), same content, new markup on article and listing
pages: no banner; classes renamed; the body wrapped in two new elements;
the date in ``<time datetime>``; the byline in ``<span class="author">``;
captions in ``<figcaption>``; dates printed ``31/07/2025``.

Article: ``div.post-view > h1.post-headline``, ``div.post-info > time[datetime]``,
``div.post-content > div.post-content-inner > div.post-text`` (``p``,
``figure.post-photo`` with ``figcaption``, ``span.author`` last), then
``section.more-posts`` ("Other news": ``li > a`` and ``span.more-posts-date``).
Listing: ``div.feed > div.feed-entry`` (``a.feed-entry-link``,
``span.feed-entry-date``, ``p.feed-entry-lead``) and ``ul.feed-pages``
(``li > a``, ``li.is-current``, ``a[rel=next]``).
"""

from __future__ import annotations

from portal_crawler.replica import markup
from portal_crawler.replica.markup import esc
from portal_crawler.replica.views import FILL, ArticleView, ListingView, PageSet, pad

MENU = ("Home", "News", "Social activities", "International relations", "Legal documents", "Contact")
FOOTER = (
    '<footer class="site-foot"><div class="site-foot-about">Ministry of Public Security of the Socialist '
    "Republic of Viet Nam</div><div>44 Yet Kieu, Hoan Kiem, Ha Noi. Tel: 069.2343201</div>"
    "<div>&copy; Ministry of Public Security. All rights reserved.</div></footer>\n"
)


def topbar(listing: str) -> str:
    links = {"Home": "/", "News": listing}
    items = "".join(f'<li><a href="{links.get(name, "#")}">{esc(name)}</a></li>' for name in MENU)
    return (
        '<nav class="topbar"><a class="topbar-brand" href="/"><img src="/images/logo.png" alt="MPS"></a>'
        f'<ul class="topbar-menu">{items}</ul></nav>\n'
    )


def page(title: str, main: str, listing: str, charset: str = "utf-8", extra_head: str = "") -> str:
    """The whole document around ``main``, with its FILL marker in a state script."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{esc(title)}</title>\n{extra_head}"
        '<link rel="stylesheet" href="/css/style.css">\n<script src="/js/main.js" defer></script>\n'
        f'</head>\n<body class="theme-2">\n{topbar(listing)}<div class="layout">\n{main}</div>\n{FOOTER}'
        f'<script id="page-data" type="application/json">{{"d":"{FILL}"}}</script>\n</body>\n</html>\n'
    )


def text(view: ArticleView) -> str:
    """The body: paragraphs and photos, the byline last, inside two wrappers."""
    rng, article, parts = view.rng, view.article, []
    for block in article.blocks:
        if block.kind == "p":
            parts.append(markup.paragraph(block.text or "", rng) + "\n")
            continue
        caption = f"<figcaption>{esc(block.text)}</figcaption>" if block.text else ""
        parts.append(f'<figure class="post-photo"><img src="{esc(block.image or "")}" alt="">{caption}</figure>\n')
    if article.byline and view.show_byline:
        parts.append(f'<span class="author">{esc(article.byline)}</span>\n')
    wrappers = '<div class="post-content"><div class="post-content-inner"><div class="post-text">\n'
    return wrappers + "".join(parts) + "</div></div></div>\n"


def more_posts(view: ArticleView) -> str:
    items = "".join(
        f'<li><a href="{esc(a.url_path)}">{esc(a.title)}</a> '
        f'<span class="more-posts-date">{a.published:%d/%m/%Y}</span></li>\n'
        for a in view.others
    )
    return f'<section class="more-posts"><h2>Other news</h2><ul>\n{items}</ul></section>\n'


def article_page(view: ArticleView, listing: str) -> str:
    article = view.article
    stamp = f'<time datetime="{article.published.isoformat()}">{article.published:%d/%m/%Y}</time>'
    date = f'<div class="post-info">{stamp}</div>\n' if view.show_date else ""
    main = (
        f'<div class="post-view">\n<h1 class="post-headline">{esc(article.title)}</h1>\n{date}{text(view)}</div>\n'
        + more_posts(view)
    )
    head = (
        f'<meta name="description" content="{esc(article.summary)}">\n'
        f'<link rel="canonical" href="{esc(article.url_path)}">\n'
    )
    return pad(page(article.title, main, listing, view.charset, head), view.size, view.rng)


def pages(view: ListingView, listing: str) -> str:
    """Plain numbered links (this theme has no query-echo trap)."""
    items = [
        f'<li class="is-current">{n}</li>' if n == view.page else f'<li><a href="{listing}?Page={n}">{n}</a></li>'
        for n in PageSet(view.page, view.pages, view.window).numbers
    ]
    if view.page < view.pages:
        items.append(f'<li><a rel="next" href="{listing}?Page={view.page + 1}">Next</a></li>')
    return '<ul class="feed-pages">' + "".join(items) + "</ul>\n"


def listing_page(view: ListingView, listing: str) -> str:
    entries = "".join(
        f'<div class="feed-entry"><a class="feed-entry-link" href="{esc(a.url_path)}">{esc(a.title)}</a>\n'
        f'<span class="feed-entry-date">{a.published:%d/%m/%Y}</span>\n'
        f'<p class="feed-entry-lead">{esc(a.summary)}</p></div>\n'
        for a in view.items
    )
    main = f'<div class="feed">\n{entries}</div>\n' + pages(view, listing)
    return page("News", main, listing).replace(FILL, "", 1)
