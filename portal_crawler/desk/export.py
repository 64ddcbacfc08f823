"""Every article field as JSON Lines or CSV, streamed row by row from a cursor.

JSON columns (captions, images, problems) become real arrays in JSON Lines and
JSON text in CSV. Output is UTF-8 without a BOM. A file is written under a
new temporary name beside it and renamed when complete, so a reader never sees
half an export and a failed one leaves nothing; it is never written inside the
archive, and replaces an existing file only when asked (`force`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from portal_crawler.catalogue import Catalogue
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.desk.search import ArticleFilter, DeskError

FORMATS = ("jsonl", "csv")
JSON_COLUMNS = ("captions", "images", "problems")


def iter_articles(catalogue: Catalogue, filters: ArticleFilter | None = None) -> Iterator[dict[str, Any]]:
    """Articles in published order (undated first), JSON columns decoded; one row in memory at a time."""
    where, params = (filters or ArticleFilter()).where(catalogue, "articles")
    cursor = catalogue.conn.execute(f"SELECT * FROM articles WHERE {where} ORDER BY published, rowid", params)
    columns = [d[0] for d in cursor.description]
    for row in cursor:
        article = dict(zip(columns, row, strict=True))
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
    for article in articles:
        out.write(json.dumps(article, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(articles: Iterator[dict[str, Any]], out: TextIO, columns: list[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    count = 0
    for article in articles:
        for column in JSON_COLUMNS:
            article[column] = json.dumps(article[column], ensure_ascii=False)
        writer.writerow(article)
        count += 1
    return count


def check_output(path: Path | None, archive: ArchivePaths, force: bool = False) -> None:
    """Fail before any work when FILE cannot or must not be written: never into the archive, never over a file
    unless `force`."""
    if path is None:
        return
    if archive.contains(path) or archive.contains(path.parent):
        raise DeskError(f"--output {path} is inside the archive {archive.root}: write the export somewhere else")
    if path.is_dir():
        raise DeskError(f"--output {path} is a directory: give a file name, e.g. {path / 'articles.jsonl'}")
    if not path.parent.is_dir():
        raise DeskError(f"cannot write --output {path}: directory {path.parent} does not exist (create it first)")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DeskError(f"cannot write --output {path}: directory {path.parent} is not writable")
    if not force and (path.exists() or path.is_symlink()):
        raise DeskError(f"--output {path} exists: pass --force to replace it, or give another name")


@contextmanager
def open_output(path: Path | None, force: bool = False) -> Iterator[TextIO]:
    """UTF-8 text to stdout, or to a temporary file beside PATH renamed to PATH once everything is written.

    The temporary name is new (O_EXCL), so no other file is ever truncated; it is
    removed whatever happens, so a failed export leaves nothing behind.
    """
    if path is None:
        sys.stdout.flush()
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield out
        finally:
            out.flush()
            out.detach()
        return
    partial, fd = _temporary(path)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        _publish(partial, path, force)
    finally:
        partial.unlink(missing_ok=True)


def _temporary(path: Path) -> tuple[Path, int]:
    """A new file beside PATH (same file system, so the rename is atomic), created with the usual permissions."""
    while True:
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return partial, os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue


def _publish(partial: Path, path: Path, force: bool) -> None:
    """Rename the finished export to PATH; without `force`, a file that appeared meanwhile is kept."""
    if force:
        os.replace(partial, path)
        return
    try:
        os.link(partial, path)  # fails if PATH exists: no check-then-write race
    except FileExistsError:
        raise DeskError(f"--output {path} appeared while exporting: pass --force to replace it") from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise DeskError(f"--output {path} appeared while exporting: pass --force to replace it") from None
        os.replace(partial, path)


def export(
    catalogue: Catalogue,
    fmt: str = "jsonl",
    output: Path | None = None,
    since: str | None = None,
    until: str | None = None,
    author: str | None = None,
    *,
    force: bool = False,
) -> int:
    """Write the articles chosen by the filters to OUTPUT (stdout when None); returns how many.

    OUTPUT is never inside the catalogue's archive, and an existing OUTPUT is replaced only with `force`.
    """
    if fmt not in FORMATS:
        raise DeskError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    filters = ArticleFilter.parse(since, until, author)
    check_output(output, ArchivePaths(catalogue.path.parent), force)
    articles = iter_articles(catalogue, filters)
    with open_output(output, force) as out:
        if fmt == "csv":
            return write_csv(articles, out, article_columns(catalogue))
        return write_jsonl(articles, out)
