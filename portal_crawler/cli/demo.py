"""`portal-crawler demo`: the replica on a free port, a full crawl of it, three sample articles."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import click

from portal_crawler.core.paths import ArchivePaths
from portal_crawler.crawl.run import CrawlOptions, run_crawl
from portal_crawler.replica import Replica, ReplicaConfig


def run_demo(archive: Path, articles: int = 200) -> int:
    with Replica(ReplicaConfig(articles=articles, layout="legacy", seed=1, port=0)) as replica:
        click.echo(f"replica: {articles + 5} articles at {replica.base_url}")
        result = run_crawl(CrawlOptions(archive=archive, start_urls=[replica.listing_url], full=True, fast=True))
    click.echo(result.summary())
    click.echo(f"archive: {archive.resolve()} (warc/, catalogue.db, logs/)")
    for row in _samples(ArchivePaths(archive).catalogue):
        click.echo(_render(row))
    return result.exit_code


def _samples(db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT id, title, published, author, body, captions, quality FROM articles"
            " ORDER BY published DESC, id LIMIT 3"
        ).fetchall()
    finally:
        conn.close()


def _render(row: sqlite3.Row) -> str:
    first = (row["body"] or "").split("\n\n")[0]
    captions = json.loads(row["captions"] or "[]")
    return "\n".join(
        [
            "",
            f"[{row['id']}] {row['title']}",
            f"  {row['published']}  by {row['author'] or '(no byline)'}  quality={row['quality']}"
            f"  photos captioned={len(captions)}",
            textwrap.indent(textwrap.fill(first, 88), "  "),
        ]
    )
