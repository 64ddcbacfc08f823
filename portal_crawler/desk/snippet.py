"""Search snippets cut in one pass over FTS5's highlight() of each column.

Written by hand because FTS5's own snippet() scores every candidate window
against every match, so its cost grew with the square of the matches, and the
matches grow with the query's terms (1,000 terms: 23 s on 55 articles).
highlight() marks the matches the way FTS5 matched them (phrases, prefixes,
NEAR, column filters) in one pass; here a sliding window over the marked
tokens picks the WIDTH tokens with the most distinct matched words, in one
pass too: the cost is linear in the text and independent of the query's size.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

OPEN, CLOSE = "\x02", "\x03"  # put around matches by highlight(): control characters extracted text lacks
WIDTH = 16  # tokens in a snippet, as the old snippet(..., 16) gave
ELLIPSIS = "…"
# FTS5's unicode61 tokens: letters and digits (with combining marks); the sentinels come out as pieces of their own.
_PIECE = re.compile(rf"[{OPEN}{CLOSE}]|(?:[^\W_]|[\u0300-\u036f])+")


class Token(NamedTuple):  # a tuple: a body has hundreds, made for every hit of every query
    start: int
    end: int
    match: str | None  # the matched word, case-folded, when highlight() marked it


def tokens(marked: str) -> list[Token]:
    """The tokens of a highlighted text, each knowing whether it sits inside a match."""
    found, inside = [], False
    for piece in _PIECE.finditer(marked):
        text = piece.group()
        if text in (OPEN, CLOSE):
            inside = text == OPEN
        else:
            found.append(Token(piece.start(), piece.end(), text.casefold() if inside else None))
    return found


def best_window(found: Sequence[Token], width: int = WIDTH) -> tuple[int, tuple[int, int]]:
    """(first token, (distinct matched words, matched tokens)) of the best window; each token is looked at twice."""
    matches = [token.match for token in found]
    seen = Counter(match for match in matches[:width] if match is not None)
    hits = sum(seen.values())
    best, score = 0, (len(seen), hits)
    for first in range(1, len(matches) - width + 1):
        leaving, entering = matches[first - 1], matches[first + width - 1]
        if leaving is None and entering is None:
            continue  # the same matches as the window before: the same score
        if leaving is not None:
            seen[leaving] -= 1
            if not seen[leaving]:
                del seen[leaving]
            hits -= 1
        if entering is not None:
            seen[entering] += 1
            hits += 1
        if (len(seen), hits) > score:
            best, score = first, (len(seen), hits)
    return best, score


def centred(found: Sequence[Token], first: int, width: int) -> int:
    """Move the window so its matches sit in the middle, as FTS5's snippet() does."""
    window = found[first : first + width]
    marked = [i for i, token in enumerate(window) if token.match is not None]
    if not marked:
        return first
    slack = width - (marked[-1] - marked[0] + 1)
    return max(0, min(len(found) - width, first + marked[0] - slack // 2))


def render(marked: str, found: Sequence[Token], first: int, width: int, marks: tuple[str, str]) -> str:
    """The window's text, matches between `marks`, '…' where text was cut, on one line."""
    last = min(len(found), first + width) - 1
    start = 0 if first == 0 else found[first].start
    end = len(marked) if last == len(found) - 1 else found[last].end
    piece = marked[start:end]
    if start > 0 and found[first].match is not None:
        piece = OPEN + piece  # the window starts inside a marked phrase
    if piece.rfind(OPEN) > piece.rfind(CLOSE):
        piece += CLOSE  # the window ends inside a marked phrase
    text = " ".join(piece.replace(OPEN, marks[0]).replace(CLOSE, marks[1]).split())
    return (ELLIPSIS if start > 0 else "") + text + (ELLIPSIS if end < len(marked) else "")


Best = tuple[tuple[int, int], str, list[Token], int]  # (score, column text, its tokens, first token of the window)


def snippet(columns: Sequence[str | None], marks: tuple[str, str], width: int = WIDTH) -> str:
    """The best `width`-token window of the best column (most distinct matched words, then most matches)."""
    # A column without a match scores (0, 0), so it wins only when no column scores more: the columns
    # highlight() marked are read first, and the others only when none of them scores.
    best = _best_column([c for c in columns if c and OPEN in c], width)
    if best is None or best[0] <= (0, 0):
        best = _best_column(columns, width)
    if best is None:
        return ""
    _, marked, found, first = best
    return render(marked, found, centred(found, first, width), width, marks)


def _best_column(columns: Sequence[str | None], width: int) -> Best | None:
    """The first column with the best window's score, in column order."""
    best: Best | None = None
    for marked in columns:
        found = tokens(marked or "")
        if not found:
            continue
        first, score = best_window(found, width)
        if best is None or score > best[0]:
            best = (score, marked or "", found, first)
    return best
