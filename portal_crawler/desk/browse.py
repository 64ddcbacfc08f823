"""Datasette over the catalogue, read-only, on 127.0.0.1: the reading room this project ships.

`portal_crawler/datasette/` is both the package data and a Datasette plugin:
metadata.json describes every table and column and holds the canned queries
(latest articles, articles by author, versions of one article with their diffs,
articles per month and per year as charts, captures of one article); the
plugin's hooks, templates and CSS link rows to their replayed page and versions
and cut long text to one line in table views. `register_plugin` hands the
package to Datasette's plugin manager (pluggy) before the app is built, since
Datasette collects plugin templates when it starts; nothing is fetched, so it
works offline.
"""

from __future__ import annotations

import asyncio
import json
import socket
import warnings
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal_crawler.desk.search import DeskError
from portal_crawler.desk.wayback import DEFAULT_REPLAY_BASE

if TYPE_CHECKING:
    from datasette.app import Datasette

HOST = "127.0.0.1"
DATABASE = "catalogue"  # the name metadata.json and the templates use; Datasette names a database after its file
PLUGIN_NAME = "portal-crawler"
SETTINGS = {
    "sql_time_limit_ms": 5000,
    "truncate_cells_html": 300,  # table and query views cut long cells (bodies); a row page shows them whole
}


def metadata(database: str = DATABASE, replay_base: str = DEFAULT_REPLAY_BASE) -> dict[str, Any]:
    """The shipped metadata, keyed by `database` (the catalogue file's stem), replay links starting at `replay_base`."""
    text = resources.files("portal_crawler").joinpath("datasette/metadata.json").read_text(encoding="utf-8")
    data = json.loads(text)
    data["databases"] = {database: data["databases"][DATABASE]}
    data["plugins"][PLUGIN_NAME]["replay_base"] = replay_base
    return data


def register_plugin() -> None:
    """The reading room's hooks, templates and CSS, registered once per process with Datasette's plugin manager."""
    from datasette.plugins import pm

    import portal_crawler.datasette as room

    if not pm.is_registered(room):
        pm.register(room, name=PLUGIN_NAME)


def make_app(catalogue_path: Path, replay_base: str = DEFAULT_REPLAY_BASE) -> Datasette:
    """A Datasette instance over the catalogue, opened read-only (mode=ro: the WAL is still read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from datasette.app import Datasette

        register_plugin()
    return Datasette(
        files=[str(catalogue_path)], metadata=metadata(catalogue_path.stem, replay_base), settings=dict(SETTINGS)
    )


def check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise DeskError(f"cannot listen on {HOST}:{port} ({exc.strerror}): pick another --port") from None


def serve(catalogue_path: Path, port: int, replay_base: str = DEFAULT_REPLAY_BASE) -> None:
    """Serve until Ctrl-C."""
    check_port(port)
    datasette = make_app(catalogue_path, replay_base)
    asyncio.run(datasette.invoke_startup())
    import uvicorn

    print(f"browse: http://{HOST}:{port}/{catalogue_path.stem} (Ctrl-C to stop)", flush=True)
    uvicorn.run(datasette.app(), host=HOST, port=port, log_level="warning", lifespan="on")
