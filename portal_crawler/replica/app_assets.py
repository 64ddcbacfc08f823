"""The app layout's HTML shells and the script that fills them from the API.

A shell carries the site's header and footer, the stylesheet, the logo, the
script and a mount point, never an article's title or text:

``<div id="portal-app" data-view="listing" data-category="1065" data-page="0"></div>``
``<div id="portal-app" data-view="article" data-article-id="200003"></div>``

``/js/portal-app.js`` (plain ES2017, no libraries) requests exactly
``/backend-portal/articles/search?dateFrom=&dateTo=&category_id=<c>&page=<p>&size=10``
or ``/backend-portal/articles/<id>`` with ``Portal-Id: 28``, the URLs a
crawler requests too, so an archive of both replays the page. It renders the
current layout's markup (``article.story`` ..., ``article.article-detail``
...), text through ``textContent``, the body HTML through ``innerHTML``, and
an error line (``p.portal-app__error``) when the API fails.
"""

from __future__ import annotations

from portal_crawler.replica.current import FOOTER, HEADER

SCRIPT_PATH = "/js/portal-app.js"
TITLE = "Ministry of Public Security"
LISTING_MOUNT = '<div id="portal-app" data-view="listing" data-category="1065" data-page="0"></div>'


def shell(mount: str) -> str:
    """A whole shell document around one mount point."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{TITLE}</title>\n"
        '<link rel="stylesheet" href="/css/style.css">\n'
        f'<script src="{SCRIPT_PATH}" defer></script>\n</head>\n<body>\n{HEADER}'
        f'<main class="container">\n{mount}\n'
        "<noscript>Please enable JavaScript to read the news.</noscript>\n"
        f"</main>\n{FOOTER}</body>\n</html>\n"
    )


def listing_shell() -> str:
    return shell(LISTING_MOUNT)


def article_shell(api_id: int) -> str:
    return shell(f'<div id="portal-app" data-view="article" data-article-id="{api_id}"></div>')


SCRIPT = b"""/* portal-app.js (replica): the 2025+ portal's pages, rendered from its JSON API. */
(() => {
  'use strict';
  const PORTAL_ID = '28';

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function shownDate(iso) {
    const parts = /^(\\d{4})-(\\d{2})-(\\d{2})/.exec(iso || '');
    return parts ? `${parts[3]}/${parts[2]}/${parts[1]}` : '';
  }

  function timeOf(className, iso) {
    const node = el('time', className, shownDate(iso));
    if (iso) { node.setAttribute('datetime', iso); }
    return node;
  }

  async function load(url) {
    const answer = await fetch(url, { headers: { 'Portal-Id': PORTAL_ID }, credentials: 'same-origin' });
    if (!answer.ok) { throw new Error(`HTTP ${answer.status}`); }
    let body;
    try { body = await answer.json(); } catch (error) { throw new Error('the answer is not JSON'); }
    if (!body || !body.data) { throw new Error('the answer holds no data'); }
    return body.data;
  }

  function story(item) {
    const node = el('article', 'story');
    const heading = el('h2', 'story__title');
    const link = el('a', '', item.title);
    link.setAttribute('href', item.url);
    heading.appendChild(link);
    node.appendChild(heading);
    node.appendChild(timeOf('story__time', item.publishTime));
    node.appendChild(el('p', 'story__summary', item.summary));
    return node;
  }

  async function listing(mount) {
    const category = encodeURIComponent(mount.getAttribute('data-category') || '1065');
    const page = encodeURIComponent(mount.getAttribute('data-page') || '0');
    const data = await load(
      `/backend-portal/articles/search?dateFrom=&dateTo=&category_id=${category}&page=${page}&size=10`);
    if (!Array.isArray(data.content)) { throw new Error('the answer holds no items'); }
    const section = el('section', 'category-news');
    data.content.forEach((item) => section.appendChild(story(item)));
    mount.appendChild(section);
  }

  async function article(mount) {
    const id = encodeURIComponent(mount.getAttribute('data-article-id') || '');
    const data = await load(`/backend-portal/articles/${id}`);
    const node = el('article', 'article-detail');
    node.appendChild(el('h1', 'article__title', data.title));
    const meta = el('div', 'article__meta');
    meta.appendChild(timeOf('', data.publishTime));
    if (data.author) {
      meta.appendChild(document.createTextNode(' '));
      meta.appendChild(el('span', 'author', data.author));
    }
    node.appendChild(meta);
    const body = el('div', 'article__body');
    body.innerHTML = data.contentHtml || '';
    node.appendChild(body);
    mount.appendChild(node);
    document.title = data.title;
  }

  function failed(mount, error) {
    const line = el('p', 'portal-app__error', `The news could not be loaded (${error.message}).`);
    line.setAttribute('role', 'alert');
    mount.appendChild(line);
  }

  async function start() {
    const mount = document.getElementById('portal-app');
    if (!mount) { return; }
    try {
      if (mount.getAttribute('data-view') === 'article') { await article(mount); } else { await listing(mount); }
    } catch (error) {
      failed(mount, error);
    }
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
"""
STATIC = {SCRIPT_PATH: (SCRIPT, "application/javascript; charset=utf-8")}
