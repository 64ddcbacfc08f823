"""Helpers the catalogue, upgrade and verify tests share (imported as `from helpers import ...`)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ARCHIVE_0_1_0 = Path(__file__).parent / "data" / "archive-0.1.0"


def cli(*args: str, timeout: float = 300, user: int | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m portal_crawler ARGS` in a subprocess; as another user (uid = gid) when `user` is given."""
    prefix = [] if user is None else ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    env = {**os.environ, "PORTAL_FAST": "1"}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "portal_crawler", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed on stderr (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query, read with a plain sqlite3 connection (not the code under test)."""
    conn = sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
