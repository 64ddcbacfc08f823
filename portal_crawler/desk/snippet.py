"""Search snippets cut in one pass over FTS5's highlight() of each column.

Written by hand because FTS5's own snippet() scores every candidate window
against every match, so its cost grew with the square of the matches, and the
matches grow with the query's terms (1,000 terms: 23 s on 55 articles).
highlight() marks the matches the way FTS5 matched them (phrases, prefixes,
NEAR, column filters) in one pass; here the best window of WIDTH tokens (the
most distinct matched words, then the most matches, the earliest on a tie) is
found by sliding over the matches alone: unmarked text is only counted (by the
regex engine, in C), and only the chosen window's two ends are located in it.
The cost is linear in the text and in the matches, independent of the query's
size, and a body of 500 tokens no longer makes 500 Python objects per hit.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from itertools import islice
from typing import NamedTuple

OPEN, CLOSE = "\x02", "\x03"  # put around matches by highlight(): control characters extracted text lacks
WIDTH = 16  # tokens in a snippet, as the old snippet(..., 16) gave
ELLIPSIS = "…"
# FTS5's unicode61 tokens: runs of letters, digits and combining marks. The sentinels are no token's
# characters, so a token never spans one and the text between two sentinels can be counted alone.
# Spelt as runs of each class rather than a run of either: the same tokens, found twice as fast.
_WORD = re.compile(r"[^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*|[\u0300-\u036f]+(?:[^\W_]+[\u0300-\u036f]*)*")
_SENTINEL = re.compile(f"([{OPEN}{CLOSE}])")


class Marked(NamedTuple):
    """A highlighted column read once: its tokens counted, its matched tokens listed."""

    text: str
    size: int  # tokens in the column
    at: list[int]  # the matched tokens' indexes, ascending
    words: list[str]  # the matched words, case-folded, in the same order
    starts: list[tuple[int, int]]  # (first token, character offset) of each stretch of text between sentinels


Stretch = tuple[str, list[str] | None]  # a text between sentinels; its words, case-folded, when it is a match


def pieces(marked: str) -> list[Stretch]:
    """Each stretch of the column between sentinels; only the matched ones are cut into words here."""
    split = _SENTINEL.split(marked)  # text, sentinel, text, ...
    return [(split[i], _matched(split[i]) if i and split[i - 1] == OPEN else None) for i in range(0, len(split), 2)]


def _matched(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]


def bound(stretches: list[Stretch], width: int) -> tuple[int, int]:
    """A score no window of the column can beat: its distinct matched words and its matches, at most `width`."""
    words = [word for _, matched in stretches if matched for word in matched]
    return min(len(set(words)), width), min(len(words), width)


def read(marked: str, stretches: list[Stretch] | None = None) -> Marked:
    """The column's tokens counted and its matches found, in one pass of the regex engine over the text."""
    at: list[int] = []
    words: list[str] = []
    starts: list[tuple[int, int]] = []
    count = offset = 0
    for piece, matched in pieces(marked) if stretches is None else stretches:
        tokens = len(_WORD.findall(piece)) if matched is None else len(matched)
        if matched is not None:
            at.extend(range(count, count + tokens))
            words.extend(matched)
        starts.append((count, offset))
        count, offset = count + tokens, offset + len(piece) + 1  # + the sentinel after it
    return Marked(marked, count, at, words, starts)


def best_window(at: Sequence[int], words: Sequence[str], count: int, width: int = WIDTH) -> tuple[int, tuple[int, int]]:
    """(first token, (distinct matched words, matched tokens)) of the earliest best window of `width` tokens.

    A window's score changes only where a match enters or leaves it, so the earliest best window starts at
    0, just after a match or `width - 1` tokens before one: those starts are tried in order while two
    pointers walk the matches, each match entering and leaving once.
    """
    last = max(0, count - width)
    starts = sorted({0, *(m - width + 1 for m in at if m >= width), *(m + 1 for m in at if m < last)})
    seen: Counter[str] = Counter()
    low = high = 0
    best, score = 0, (-1, -1)
    for first in starts:
        while high < len(at) and at[high] < first + width:
            seen[words[high]] += 1
            high += 1
        while low < high and at[low] < first:
            gone = words[low]
            seen[gone] -= 1
            if not seen[gone]:
                del seen[gone]
            low += 1
        if (len(seen), high - low) > score:
            best, score = first, (len(seen), high - low)
    return best, score


def centred(column: Marked, first: int, width: int) -> int:
    """Move the window so its matches sit in the middle, as FTS5's snippet() does."""
    inside = column.at[bisect_left(column.at, first) : bisect_left(column.at, first + width)]
    if not inside:
        return first
    slack = width - (inside[-1] - inside[0] + 1)
    return max(0, min(column.size - width, inside[0] - slack // 2))


def is_match(column: Marked, index: int) -> bool:
    """Whether the column's token `index` sits inside a match."""
    found = bisect_left(column.at, index)
    return found < len(column.at) and column.at[found] == index


def token_span(column: Marked, index: int) -> tuple[int, int]:
    """(start, end) characters of the column's token `index`, found in the stretch of text that holds it."""
    first, offset = column.starts[bisect_right(column.starts, (index, len(column.text))) - 1]
    word = next(islice(_WORD.finditer(column.text, offset), index - first, None))  # skipped in C
    return word.span()


def render(column: Marked, first: int, width: int, marks: tuple[str, str]) -> str:
    """The window's text, matches between `marks`, '…' where text was cut, on one line."""
    marked, last = column.text, min(column.size, first + width) - 1
    start = 0 if first == 0 else token_span(column, first)[0]
    end = len(marked) if last == column.size - 1 else token_span(column, last)[1]
    piece = marked[start:end]
    if start > 0 and is_match(column, first):
        piece = OPEN + piece  # the window starts inside a marked phrase
    if piece.rfind(OPEN) > piece.rfind(CLOSE):
        piece += CLOSE  # the window ends inside a marked phrase
    text = " ".join(piece.replace(OPEN, marks[0]).replace(CLOSE, marks[1]).split())
    return (ELLIPSIS if start > 0 else "") + text + (ELLIPSIS if end < len(marked) else "")


Best = tuple[tuple[int, int], Marked, int]  # (score, the column, first token of its window)


def snippet(columns: Sequence[str | None], marks: tuple[str, str], width: int = WIDTH) -> str:
    """The best `width`-token window of the best column (most distinct matched words, then most matches)."""
    # A column without a match scores (0, 0), so it wins only when no column scores more: the columns
    # highlight() marked are read first, and the others only when none of them scores.
    best = _best_column([c for c in columns if c and OPEN in c], width)
    if best is None or best[0] <= (0, 0):
        best = _best_column(columns, width)
    if best is None:
        return ""
    _, column, first = best
    return render(column, centred(column, first, width), width, marks)


def _best_column(columns: Sequence[str | None], width: int) -> Best | None:
    """The first column with the best window's score, in column order.

    A column is counted only when its matches could beat the best so far: when the title holds every
    matched word, the body is not read.
    """
    best: Best | None = None
    for text in columns:
        stretches = pieces(text or "")
        if best is not None and bound(stretches, width) <= best[0]:
            continue
        column = read(text or "", stretches)
        if not column.size:
            continue
        first, score = best_window(column.at, column.words, column.size, width)
        if best is None or score > best[0]:
            best = (score, column, first)
    return best
