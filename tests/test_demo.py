"""`make demo` twice in a row: the replica comes up on another port, and the second run adds no version."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import rows, run_cli

pytestmark = pytest.mark.slow


def test_a_second_demo_on_another_port_adds_no_version(tmp_path: Path) -> None:
    archive = tmp_path / "demo-archive"
    first = run_cli("demo", "--archive", str(archive), "--articles", "30")
    assert first.returncode == 0, first.stderr
    versions = rows(archive / "catalogue.db", "SELECT article_id, version, content_hash FROM versions")
    second = run_cli("demo", "--archive", str(archive), "--articles", "30")
    assert second.returncode == 0, second.stderr
    ports = {r["url"].split("/")[2] for r in rows(archive / "catalogue.db", "SELECT url FROM captures")}
    assert len(ports) == 2, ports  # two replicas, two ports: the captures keep the URL as fetched
    assert rows(archive / "catalogue.db", "SELECT article_id, version, content_hash FROM versions") == versions
    last = rows(archive / "catalogue.db", "SELECT * FROM runs ORDER BY id DESC LIMIT 1")[0]
    assert (last["articles_new"], last["articles_updated"], last["articles_unchanged"]) == (0, 0, 35)
