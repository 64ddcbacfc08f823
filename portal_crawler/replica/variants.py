"""Pages the faults ask for: an unknown template, and malformed HTML."""

from __future__ import annotations

from portal_crawler.replica.markup import esc
from portal_crawler.replica.views import ArticleView

UNCLOSED = (b"</p>", b"</td>", b"</tr>", b"</li>", b"</h3>", b"</table>")
FOOTERS = (b'<div id="footer">', b'<footer class="site-footer">')


def fallback_page(view: ArticleView) -> str:
    """A third markup no template matches, with the real title and text.

    ``<div class="post"><h2>title</h2><span class="post-date">…</span>
    <div class="entry"><p>…</p> … <p class="post-author">…</p></div></div>``
    """
    article, parts = view.article, []
    for block in article.blocks:
        if block.kind == "p":
            parts.append(f"<p>{esc(block.text or '')}</p>\n")
            continue
        caption = f'<p class="wp-caption-text">{esc(block.text)}</p>' if block.text else ""
        parts.append(f'<div class="wp-caption"><img src="{esc(block.image or "")}" alt="">{caption}</div>\n')
    if article.byline and view.show_byline:
        parts.append(f'<p class="post-author">{esc(article.byline)}</p>\n')
    date = f'<span class="post-date">{article.date_text}</span>\n' if view.show_date else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="{view.charset}">'
        f"<title>{esc(article.title)}</title></head>\n<body>\n"
        f'<div class="post"><h2>{esc(article.title)}</h2>\n{date}'
        f'<div class="entry">\n{"".join(parts)}</div></div>\n</body></html>\n'
    )


def malformed(body: bytes) -> bytes:
    """Unclosed tags and a document cut short before its footer."""
    for tag in UNCLOSED:
        body = body.replace(tag, b"")
    cuts = [at for at in (body.find(marker) for marker in FOOTERS) if at > 0]
    return body[: cuts[0]] if cuts else body[: len(body) * 3 // 4]
