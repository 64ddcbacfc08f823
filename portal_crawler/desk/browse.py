"""Datasette over the catalogue, read-only, on 127.0.0.1, with the metadata this project ships.

`portal_crawler/datasette/metadata.json` describes every table and column and
holds the canned queries (latest articles, articles by author, articles per
month, captures of one article).
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

if TYPE_CHECKING:
    from datasette.app import Datasette

HOST = "127.0.0.1"
DATABASE = "catalogue"  # the name metadata.json uses; Datasette names a database after its file


def metadata(database: str = DATABASE) -> dict[str, Any]:
    """The shipped metadata, keyed by `database` (the catalogue file's stem)."""
    text = resources.files("portal_crawler").joinpath("datasette/metadata.json").read_text(encoding="utf-8")
    data = json.loads(text)
    data["databases"] = {database: data["databases"][DATABASE]}
    return data


def make_app(catalogue_path: Path) -> Datasette:
    """A Datasette instance over the catalogue, opened read-only (mode=ro: the WAL is still read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from datasette.app import Datasette
    return Datasette(
        files=[str(catalogue_path)], metadata=metadata(catalogue_path.stem), settings={"sql_time_limit_ms": 5000}
    )


def check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise DeskError(f"cannot listen on {HOST}:{port} ({exc.strerror}): pick another --port") from None


def serve(catalogue_path: Path, port: int) -> None:
    """Serve until Ctrl-C."""
    check_port(port)
    datasette = make_app(catalogue_path)
    asyncio.run(datasette.invoke_startup())
    import uvicorn

    print(f"browse: http://{HOST}:{port}/{catalogue_path.stem} (Ctrl-C to stop)", flush=True)
    uvicorn.run(datasette.app(), host=HOST, port=port, log_level="warning", lifespan="on")
