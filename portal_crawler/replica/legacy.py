"""The legacy template (2017 to 2024): ASP.NET pages, ``-t<ID>.html`` URLs.

Class names follow PORTAL.md and are a contract with the site profile:
``div.top-notice`` banner, ``div.news-detail``, ``h1.detail-title``,
``div.detail-date``, ``div.detail-content`` (``p``; photos as
``table.image-center`` with ``td.image-caption``; the byline
``<p style="text-align: right;"><strong>…</strong></p>`` last),
``div.other-news``; listings ``div.news-item`` (``div.news-date``,
``h3.news-title a``, ``div.news-sapo``) and the trap pager ``div.paging``.
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

LISTING = "/news-and-events.html"
BANNER = '<div class="top-notice">Ministry of Public Security Portal is under construction</div>\n'
BODY_OPEN = '<div class="detail-content">\n'
SEARCH_BOX = '<div class="search-box"><input name="keyword"><button>Search</button></div>\n'
SECTIONS = [
    ("About MPS", ["Functions and duties", "Organizational structure", "Leaders of MPS", "History and traditions"]),
    ("Social activities", ["Charity", "Gratitude", "Culture and sports"]),
    ("International relations", ["Bilateral cooperation", "Multilateral cooperation", "Delegations"]),
    ("Legal documents", ["Laws", "Decrees", "Circulars"]),
    ("Public services", ["Passports", "Residence", "Vehicle registration"]),
]


def menu() -> str:
    items = ['<li><a href="/">Home</a></li>', f'<li><a href="{LISTING}">News - Events</a></li>']
    for name, subs in SECTIONS:
        sub = "".join(f'<li><a href="#">{esc(s)}</a></li>' for s in subs)
        items.append(f'<li class="has-sub"><a href="#">{esc(name)}</a><ul class="sub">{sub}</ul></li>')
    return '<ul class="menu">' + "\n  ".join(items) + "</ul>"


HEADER = (
    '<div id="header"><div class="logo"><a href="/"><img src="/images/logo.png" '
    'alt="Ministry of Public Security of Viet Nam"></a></div>\n' + menu() + "</div>\n"
)
FOOTER = (
    '<div id="footer"><p>MINISTRY OF PUBLIC SECURITY OF THE SOCIALIST REPUBLIC OF VIET NAM</p>'
    "<p>Address: 44 Yet Kieu, Hoan Kiem, Ha Noi. Tel: 069.2343201</p>"
    "<p>Copyright &copy; Ministry of Public Security. All rights reserved.</p></div>\n"
)


def page(title: str, main: str, banner: bool, charset: str = "utf-8", extra_head: str = "") -> str:
    """The whole document around ``main``, with its view-state FILL marker."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{esc(title)}</title>\n{extra_head}"
        '<link rel="stylesheet" href="/css/style.css">\n<script src="/js/main.js"></script>\n'
        '</head>\n<body>\n<form method="post" id="form1">\n<div class="aspNetHidden">'
        f'<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{FILL}"></div>\n'
        + (BANNER if banner else "")
        + HEADER
        + f'<div id="main">\n{main}</div>\n'
        + FOOTER
        + "</form>\n</body>\n</html>\n"
    )


def photo(image: str, caption: str | None) -> str:
    rows = f'<tr><td><img src="{esc(image)}" alt=""></td></tr>\n'
    if caption:
        rows += f'<tr><td class="image-caption">{esc(caption)}</td></tr>\n'
    return f'<table class="image-center"><tbody>\n{rows}</tbody></table>\n'


def content(view: ArticleView) -> str:
    """``div.detail-content``: paragraphs and photos in order, the byline last."""
    rng, article, parts = view.rng, view.article, []
    for block in article.blocks:
        if block.kind == "p":
            parts.append(markup.paragraph(block.text or "", rng) + "\n")
        else:
            parts.append(photo(block.image or "", block.text) + markup.maybe_empty(rng, 0.4))
    parts.append(markup.maybe_empty(rng))
    if article.byline and view.show_byline:
        parts.append(byline_line(article.byline))
    return BODY_OPEN + "".join(parts) + "</div>\n"


def byline_line(byline: str) -> str:
    """The byline, last in the body: a right-aligned bold paragraph."""
    return f'<p style="text-align: right;"><strong>{esc(byline)}</strong></p>\n'


def date_line(article: Article) -> str:
    """The date under the title (``November, 30 2019``)."""
    return f'<div class="detail-date">{article.date_text}</div>\n'


def other_news(view: ArticleView) -> str:
    items = [
        f'<li><a href="{esc(a.url_path)}">{esc(a.title)}</a> <span>({a.date_text})</span></li>' for a in view.others
    ]
    if view.offsite_link:
        items.append(f'<li><a href="{OFFSITE_HOST}/news/{view.article.id}.html">Partner news</a></li>')
    return '<div class="other-news"><h4>Other news</h4><ul>\n' + "\n".join(items) + "</ul></div>\n"


def article_page(view: ArticleView) -> str:
    article = view.article
    meta = date_line(article) if view.show_date else ""
    if article.view_count is not None:
        meta += f'<p class="view-count">Lượt xem: {article.view_count}</p>\n'
    detail = (
        f'<div class="news-detail">\n<h1 class="detail-title">{esc(article.title)}</h1>\n{meta}{content(view)}</div>\n'
    )
    trailer = SEARCH_BOX if article.published.year >= 2022 else ""
    head = (
        f'<meta name="description" content="{esc(article.summary)}">\n'
        f'<link rel="canonical" href="{esc(article.url_path)}">\n'
    )
    html_text = page(article.title, detail + trailer + other_news(view), article.banner, view.charset, head)
    return pad(html_text, view.size, view.rng)


def pager(view: ListingView) -> str:
    """First, two pages either side, Last; the links echo the query (the trap)."""

    def href(number: int) -> str:
        return f"?{esc(view.query)}&amp;Page={number}" if view.query else f"?Page={number}"

    if view.pages == 0:
        return '<div class="paging"></div>\n'
    links = [f'<a href="{href(1)}">First</a>']
    for number in PageSet(view.page, view.pages, view.window).numbers:
        active = number == view.page
        links.append(f'<span class="active">{number}</span>' if active else f'<a href="{href(number)}">{number}</a>')
    links.append(f'<a href="{href(view.pages)}">Last</a>')
    return '<div class="paging">' + " ".join(links) + "</div>\n"


def listing_page(view: ListingView) -> str:
    items = [
        f'<div class="news-item">\n<div class="news-date">{a.date_text}</div>\n'
        f'<h3 class="news-title"><a href="{esc(a.url_path)}">{esc(a.title)}</a></h3>\n'
        f'<div class="news-sapo">{esc(a.summary)}</div>\n</div>\n'
        for a in view.items
    ]
    main = '<div class="list-news">\n' + "".join(items) + "</div>\n" + pager(view)
    return page("News - Events", main, True).replace(FILL, "/wEPDwUKMTY1NDU2MTA1MmRk", 1)


def home_page(latest: list[Article]) -> str:
    items = "".join(f'<li><a href="{esc(a.url_path)}">{esc(a.title)}</a></li>\n' for a in latest)
    main = (
        f'<div class="home"><h2><a href="{LISTING}">News - Events</a></h2>\n<ul class="latest">\n{items}</ul></div>\n'
    )
    return page("Ministry of Public Security of Viet Nam", main, True).replace(FILL, "", 1)


def simple_page(title: str, message: str) -> str:
    """Error and not-found pages."""
    main = f'<div class="message"><h1>{esc(title)}</h1><p>{esc(message)}</p></div>\n'
    return page(title, main, False).replace(FILL, "", 1)
