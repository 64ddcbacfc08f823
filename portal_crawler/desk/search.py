"""Full-text search of the catalogue: FTS5 over title, summary, body and author, ranked by bm25.

The ranking query touches only the FTS index (plus `articles` when a filter
asks for it) and stops at `limit`; snippets and article columns are read for
those few hits alone, so a search costs about the same at 500 or 50,000 articles.
A query is bounded (MAX_QUERY_CHARS, MAX_QUERY_TERMS) and its snippets are cut
in one pass (desk.snippet), so its cost grows with the query's size, not with
its square. The filters (`ArticleFilter`) are shared with `export`.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from portal_crawler.catalogue import Catalogue
from portal_crawler.core.errors import UsageProblem
from portal_crawler.desk.snippet import CLOSE, OPEN, snippet

# bm25 weights for the FTS columns, in their order: title, summary, body, author
WEIGHTS = (10.0, 4.0, 1.0, 2.0)
PLAIN_MARKS = ("[", "]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_QUERY_CHARS = 1_000
MAX_QUERY_TERMS = 64  # bm25 and highlight() still cost terms x matches in FTS5: the bound keeps that small
MAX_LIMIT = 10_000
# A search on a read-only connection maps the file instead of copying each page it reads into SQLite's cache:
# ranking reads the FTS index's doclists page by page, and over 50,000 articles the median query took 4.8
# instead of 5.6 ms (bench catalogue, queries alternated between two connections). Only there: mapped pages
# count in a process's resident memory (a crawl's or a wacz's peak RSS would grow with the catalogue), and
# SQLite turns an I/O error on a mapped page into SIGBUS, which a connection that writes must report instead.
MAPPED_BYTES = 1 << 30
_TERM = re.compile(r"[^\W_]+")
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


class DeskError(UsageProblem):
    """A search, export or stats request that cannot be answered as asked; the message says how to fix it."""


class BadFilter(DeskError):
    """A --since/--until/--author/--limit value that cannot be used."""


class SearchSyntaxError(DeskError):
    """The query is not valid FTS5 syntax."""


@dataclass(frozen=True)
class Hit:
    id: str
    title: str | None
    published: str | None
    author: str | None
    url: str
    snippet: str
    rank: float  # bm25 score as FTS5 gives it: lower is more relevant


def parse_date(value: str | None, option: str) -> str | None:
    """A YYYY-MM-DD date, checked; `option` names it in the message."""
    if value is None:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadFilter(f"{option} {value!r} is not a date: give it as YYYY-MM-DD, e.g. 2024-03-31") from None


@functools.lru_cache(maxsize=4096)  # a filter folds every candidate's author, and a newsroom has few authors
def fold(text: str | None) -> str | None:
    """Lower case without diacritics, so 'HOAI AN' finds 'Hoài An'."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class ArticleFilter:
    """Published date range (inclusive, YYYY-MM-DD) and author (case- and accent-insensitive substring)."""

    since: str | None = None
    until: str | None = None
    author: str | None = None

    @classmethod
    def parse(cls, since: str | None = None, until: str | None = None, author: str | None = None) -> ArticleFilter:
        since, until = parse_date(since, "--since"), parse_date(until, "--until")
        if since and until and since > until:
            raise BadFilter(f"--since {since} is after --until {until}: swap them")
        if author is not None and not author.strip():
            raise BadFilter("--author is empty: give part of a name, e.g. --author 'Hoài An'")
        return cls(since, until, author.strip() if author else None)

    def __bool__(self) -> bool:
        return any((self.since, self.until, self.author))

    def where(self, catalogue: Catalogue, alias: str = "articles") -> tuple[str, list[Any]]:
        """SQL condition on `alias` and its parameters ('1' when there is no filter)."""
        clauses, params = [], []
        if self.since:
            clauses.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:  # inclusive even when published carries a time
            clauses.append(f"{alias}.published < ?")
            params.append((date.fromisoformat(self.until) + timedelta(days=1)).isoformat())
        if self.author:
            catalogue.conn.create_function("portal_fold", 1, fold, deterministic=True)
            clauses.append(f"instr(portal_fold({alias}.author), ?) > 0")
            params.append(fold(self.author) or "")
        return " AND ".join(clauses) or "1", params


def search(
    catalogue: Catalogue,
    query: str,
    since: str | None = None,
    until: str | None = None,
    author: str | None = None,
    limit: int = 20,
    marks: tuple[str, str] = PLAIN_MARKS,
) -> list[Hit]:
    """The `limit` best matches of an FTS5 query, best first, each with a snippet whose matches sit in `marks`."""
    check_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadFilter(f"--limit {limit} is out of range: give 1 to {MAX_LIMIT:,}")
    filters = ArticleFilter.parse(since, until, author)
    if catalogue.read_only:
        catalogue.conn.execute(f"PRAGMA mmap_size={MAPPED_BYTES}")
    try:
        ranked = _ranked(catalogue, query, filters, limit)
        return _hits(catalogue, query, ranked, marks)
    except sqlite3.OperationalError as exc:
        raise _syntax_error(query, str(exc)) from None


def check_query(query: str) -> None:
    """Refuse a query that is empty, not UTF-8 text, or over the bounds, with a message that says which."""
    if not query or not query.strip():
        raise SearchSyntaxError("empty query: give words to look for, e.g. portal-crawler search 'drug trafficking'")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SearchSyntaxError(
            f"the query is not UTF-8 text (character {exc.start + 1} came from a byte that could not be decoded):"
            " type it again in a UTF-8 terminal (LANG=C.UTF-8)"
        ) from None
    if len(query) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(
            f"the query is {len(query):,} characters long: at most {MAX_QUERY_CHARS:,} are searched; shorten it"
        )
    terms = sum(1 for term in _TERM.findall(query) if term not in _OPERATORS)
    if terms > MAX_QUERY_TERMS:
        raise SearchSyntaxError(
            f"the query has {terms:,} terms: at most {MAX_QUERY_TERMS} are searched; keep the words that narrow it"
        )


def _ranked(catalogue: Catalogue, query: str, filters: ArticleFilter, limit: int) -> list[tuple[int, float]]:
    """(rowid, bm25) of the best matches; only the FTS index is read unless a filter needs articles."""
    rank = f"bm25(articles_fts, {', '.join(map(str, WEIGHTS))})"
    if not filters:  # bm25() called directly is a third faster than FTS5's rank column
        sql = f"SELECT rowid, {rank} AS score FROM articles_fts WHERE articles_fts MATCH ? ORDER BY score LIMIT ?"
        return catalogue.conn.execute(sql, (query, limit)).fetchall()
    where, params = filters.where(catalogue, "a")
    sql = (
        f"SELECT articles_fts.rowid, {rank} AS score FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
        f" WHERE articles_fts MATCH ? AND {where} ORDER BY score LIMIT ?"
    )
    return catalogue.conn.execute(sql, (query, *params, limit)).fetchall()


def _hits(catalogue: Catalogue, query: str, ranked: list[tuple[int, float]], marks: tuple[str, str]) -> list[Hit]:
    """The hits' columns, and a snippet from each hit's highlighted columns (title, summary, body, author)."""
    if not ranked:
        return []
    rowids = [rowid for rowid, _ in ranked]
    highlights = ", ".join(f"highlight(articles_fts, {column}, ?, ?)" for column in range(len(WEIGHTS)))
    sql = (
        f"SELECT a.rowid, a.id, a.title, a.published, a.author, a.url, {highlights}"
        " FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
        f" WHERE articles_fts MATCH ? AND articles_fts.rowid IN ({', '.join('?' * len(rowids))})"
    )
    params = (*(OPEN, CLOSE) * len(WEIGHTS), query, *rowids)
    rows = {row[0]: row for row in catalogue.conn.execute(sql, params)}
    hits = []
    for rowid, score in ranked:
        if rowid in rows:
            _, id_, title, published, author, url, *columns = rows[rowid]
            hits.append(Hit(id_, title, published, author, url, snippet(columns, marks), score))
    return hits


_REASONS = (  # FTS5's own words -> what they mean to someone typing a query
    (re.compile(r'fts5: syntax error near ""'), "it ends where a word or a closing bracket should follow"),
    (re.compile(r'fts5: syntax error near "(AND|OR|NOT)"'), "{0} needs words on both sides"),
    (re.compile(r'fts5: syntax error near "(.*)"'), "{0} cannot stand there unquoted"),
    (re.compile(r"unterminated string"), "a double quote is not closed"),
    (re.compile(r"no such column: (.*)"), "'{0}' is not a column to search (title, summary, body, author)"),
    (re.compile(r"unknown special query"), "a bare '*' is not a query"),
    (re.compile(r"expected integer, got (.*)"), "NEAR(...) takes a number of words as distance, not {0}"),
)


def _syntax_error(query: str, reason: str) -> DeskError:
    if "no such table" in reason:
        return DeskError(f"the catalogue has no full-text index ({reason}): rebuild it with 'portal-crawler reindex'")
    for pattern, meaning in _REASONS:
        if found := pattern.match(reason):
            words = " ".join(re.findall(r"[^\W_]+", query)) or "drug trafficking"
            return SearchSyntaxError(
                f"bad search query {query!r}: {meaning.format(*found.groups())}; to search for"
                f" the words literally, wrap them in double quotes: '\"{words}\"'"
            )
    return DeskError(f"search failed: {reason}")
