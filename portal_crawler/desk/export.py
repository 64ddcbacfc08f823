"""Every article field as JSON Lines or CSV, streamed row by row from a cursor.

JSON columns (captions, images, problems) become real arrays in JSON Lines and
JSON text in CSV. Output is UTF-8 without a BOM; a file is written as FILE.tmp
and renamed when complete, so a reader never sees half an export.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from portal_crawler.catalogue import Catalogue
from portal_crawler.desk.search import ArticleFilter, DeskError

FORMATS = ("jsonl", "csv")
JSON_COLUMNS = ("captions", "images", "problems")


def iter_articles(catalogue: Catalogue, filters: ArticleFilter = ArticleFilter()) -> Iterator[dict[str, Any]]:
    """Articles in published order (undated first), JSON columns decoded; one row in memory at a time."""
    where, params = filters.where(catalogue, "articles")
    cursor = catalogue.conn.execute(f"SELECT * FROM articles WHERE {where} ORDER BY published, rowid", params)
    columns = [d[0] for d in cursor.description]
    for row in cursor:
        article = dict(zip(columns, row))
        for column in JSON_COLUMNS:
            article[column] = _json_array(article[column])
        yield article


def _json_array(text: str | None) -> Any:
    if not text:
        return []
    try:
        return json.loads(text)
    except ValueError:
        return text  # not JSON after all: pass it on as it is rather than lose it


def article_columns(catalogue: Catalogue) -> list[str]:
    return [row[1] for row in catalogue.conn.execute("PRAGMA table_info(articles)")]


def write_jsonl(articles: Iterator[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for count, article in enumerate(articles, 1):
        out.write(json.dumps(article, ensure_ascii=False) + "\n")
    return count


def write_csv(articles: Iterator[dict[str, Any]], out: TextIO, columns: list[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    count = 0
    for count, article in enumerate(articles, 1):
        for column in JSON_COLUMNS:
            article[column] = json.dumps(article[column], ensure_ascii=False)
        writer.writerow(article)
    return count


def check_output(path: Path | None) -> None:
    """Fail before any work when FILE cannot be written where asked."""
    if path is None:
        return
    if path.is_dir():
        raise DeskError(f"--output {path} is a directory: give a file name, e.g. {path / 'articles.jsonl'}")
    if not path.parent.is_dir():
        raise DeskError(f"cannot write --output {path}: directory {path.parent} does not exist (create it first)")
    if not os.access(path.parent, os.W_OK):
        raise DeskError(f"cannot write --output {path}: directory {path.parent} is not writable")


@contextmanager
def open_output(path: Path | None) -> Iterator[TextIO]:
    """UTF-8 text to stdout, or to PATH.tmp renamed to PATH once everything is written."""
    if path is None:
        sys.stdout.flush()
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield out
        finally:
            out.flush()
            out.detach()
        return
    partial = path.with_name(path.name + ".tmp")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def export(
    catalogue: Catalogue,
    fmt: str = "jsonl",
    output: Path | None = None,
    since: str | None = None,
    until: str | None = None,
    author: str | None = None,
) -> int:
    """Write the articles chosen by the filters to OUTPUT (stdout when None); returns how many."""
    if fmt not in FORMATS:
        raise DeskError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    filters = ArticleFilter.parse(since, until, author)
    check_output(output)
    articles = iter_articles(catalogue, filters)
    with open_output(output) as out:
        if fmt == "csv":
            return write_csv(articles, out, article_columns(catalogue))
        return write_jsonl(articles, out)
