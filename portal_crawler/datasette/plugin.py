"""The reading room's Datasette hooks: SQL functions, cells with replay and version links, diffs, charts, CSS.

- `prepare_connection` registers `portal_fold(text)` (case and diacritics folded
  as the CLI's --author folds them), `portal_version_diff(article_id, old, new)`
  (two versions as JSON objects -> desk.diff's JSON) and
  `portal_replay_url(warc_date, url)`;
- `render_cell` turns an article's (or version's) `url` into links to its
  replayed page and its versions, a `changes` column into the marked-up diff and
  a `replay` column into a link; every text is escaped;
- `extra_template_vars` gives templates `portal_bar_chart(rows, title)`;
- `extra_css_urls` adds static/room.css (bodies cut to one line in tables).

The catalogue's SQL stays the catalogue's: cells read captures through
`catalogue.queries.capture_rows` on Datasette's own connection.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from markupsafe import Markup, escape

from portal_crawler.catalogue.queries import capture_rows
from portal_crawler.desk.chart import bar_chart
from portal_crawler.desk.diff import VersionDiff, compare
from portal_crawler.desk.diff_view import render_html
from portal_crawler.desk.search import fold
from portal_crawler.desk.wayback import DEFAULT_REPLAY_BASE, replay_url

PLUGIN = "portal-crawler"  # its key under "plugins" in the metadata: {"replay_base": URL}
PACKAGE = "portal_crawler.datasette"  # the registered module: Datasette serves its static/ under this name
LINKED_TABLES = {"articles": "id", "versions": "article_id"}  # table -> its article ID column
VERSIONS_QUERY = "versions_of_article"


def replay_base(datasette: Any) -> str:
    return str((datasette.plugin_config(PLUGIN) or {}).get("replay_base") or DEFAULT_REPLAY_BASE)


def version_diff(article_id: str | None, old: str | None, new: str | None) -> str | None:
    """SQL `portal_version_diff`: two version rows as JSON objects (old NULL for version 1) -> the diff as JSON."""
    if new is None:
        return None
    changes = compare(article_id or "", json.loads(old) if old else None, json.loads(new))
    return json.dumps(changes.as_dict(), ensure_ascii=False)


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    base = replay_base(datasette)

    def replay(moment: str | None, url: str | None) -> str | None:
        return replay_url(base, {"warc_date": moment, "url": url}) if moment and url else None

    conn.create_function("portal_fold", 1, fold, deterministic=True)
    conn.create_function("portal_version_diff", 3, version_diff, deterministic=True)
    conn.create_function("portal_replay_url", 2, replay, deterministic=True)


def _column(row: Any, name: str) -> Any:
    """A column of the row being rendered; a foreign key the table view expanded gives its value back."""
    try:
        value = row[name]
    except (IndexError, KeyError):  # a table view showing some columns only (?_col=)
        return None
    return value["value"] if isinstance(value, dict) and "value" in value else value


def _diff_cell(value: Any) -> Markup | None:
    try:
        data = json.loads(value) if isinstance(value, str) else None
        found = VersionDiff.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
    if found is None:
        return None
    return Markup(render_html(found))  # render_html escapes every text it is given


async def _url_cell(row: Any, value: str, table: str, database: str, datasette: Any) -> Markup:
    """Links to the replayed capture and to the article's versions (with their diffs), then the URL.

    The links come first: a table view cuts the cell to one line (room.css), the URL is what gets cut.
    """
    links = []
    capture_id = _column(row, "capture_id")
    if capture_id is not None:
        found = await datasette.get_database(database).execute_fn(lambda conn: capture_rows(conn, [capture_id]))
        if capture_id in found:
            replay = escape(replay_url(replay_base(datasette), found[capture_id]))
            links.append(f'<a class="portal-replay" href="{replay}">replay</a>')
    article_id = _column(row, LINKED_TABLES[table])
    if article_id is not None:
        versions = f"{datasette.urls.database(database)}/{VERSIONS_QUERY}?{urlencode({'article_id': article_id})}"
        count = _column(row, "version") if table == "articles" else None
        label = f"versions ({escape(count)})" if count else "versions"
        links.append(f'<a class="portal-versions" href="{escape(versions)}">{label}</a>')
    first = f'<span class="portal-links">{" · ".join(links)}</span> ' if links else ""
    return Markup(f'{first}<a href="{escape(value)}">{escape(value)}</a>')  # every part escaped


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if table is None and column == "changes":
        return _diff_cell(value)
    if table is None and column == "replay" and isinstance(value, str) and value.startswith(("http://", "https://")):
        return Markup(f'<a class="portal-replay" href="{escape(value)}">replayed page</a>')
    if table in LINKED_TABLES and column == "url" and isinstance(value, str):

        async def links() -> Markup:
            return await _url_cell(row, value, table, database, datasette)

        return links
    return None


@hookimpl
def extra_template_vars(datasette: Any) -> dict[str, Any]:
    def portal_bar_chart(rows: Any, title: str) -> Markup:
        return Markup(bar_chart(((r[0], r[1]) for r in rows), title))  # bar_chart escapes the labels

    return {"portal_bar_chart": portal_bar_chart}


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    return [datasette.urls.static_plugins(PACKAGE, "room.css")]
