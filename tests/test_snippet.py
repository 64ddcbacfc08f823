"""desk.snippet: the window a search hit shows, checked against a brute force that reads every token."""

from __future__ import annotations

import random
import re

import pytest

from portal_crawler.desk.snippet import CLOSE, OPEN, WIDTH, best_window, read, snippet

# The tokens as FTS5's unicode61 cuts them, spelt the plain way (desk.snippet spells the pattern differently).
PLAIN_TOKEN = re.compile(rf"[{OPEN}{CLOSE}]|(?:[^\W_]|[\u0300-\u036f])+")
WORDS = ["police", "Đà", "Nẵng", "ring", "leader", "x1", "y_z", "é", "tôi", "Nậm", "Cắn", "a\u0301b", ",", "…", "’"]


def plain_tokens(marked: str) -> list[str | None]:
    """Each token's matched word (case-folded) or None, read one piece at a time."""
    found, inside = [], False
    for piece in PLAIN_TOKEN.findall(marked):
        if piece in (OPEN, CLOSE):
            inside = piece == OPEN
        else:
            found.append(piece.casefold() if inside else None)
    return found


def brute_window(matches: list[str | None], width: int) -> tuple[int, tuple[int, int]]:
    """Every window scored from scratch: the earliest with the most distinct words, then the most matches."""
    best, score = 0, (-1, -1)
    for first in range(max(1, len(matches) - width + 1)):
        window = [m for m in matches[first : first + width] if m is not None]
        if (len(set(window)), len(window)) > score:
            best, score = first, (len(set(window)), len(window))
    return best, score


def marked_text(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randint(0, 80)):
        word, roll = rng.choice(WORDS), rng.random()
        if roll < 0.2:
            pieces.append(f"{OPEN}{word}{' ' + rng.choice(WORDS) if rng.random() < 0.3 else ''}{CLOSE}")
        elif roll < 0.25:
            pieces.append(rng.choice([OPEN, CLOSE]))  # highlight() never leaves one alone; read() must not care
        else:
            pieces.append(word)
    return rng.choice([" ", "\n", "-"]).join(pieces)


@pytest.mark.parametrize("seed", range(8))
def test_the_window_is_the_one_a_brute_force_picks(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        marked, width = marked_text(rng), rng.randint(1, 20)
        expected = plain_tokens(marked)
        column = read(marked)
        assert column.size == len(expected)
        assert column.at == [i for i, m in enumerate(expected) if m is not None]
        assert column.words == [m for m in expected if m is not None]
        assert best_window(column.at, column.words, column.size, width) == brute_window(expected, width)


class Counted(list):
    reads = 0

    def __getitem__(self, index):
        got = super().__getitem__(index)
        Counted.reads += len(got) if isinstance(index, slice) else 1
        return got


def test_the_window_is_one_pass_over_the_matches() -> None:
    """Each match enters the window once and leaves it once; the text between matches is only counted."""
    marked = " ".join(f"{OPEN}w{i % 64}{CLOSE}" if i % 3 == 0 else f"x{i}" for i in range(3000))
    column = read(marked)
    at, words = Counted(column.at), Counted(column.words)
    first, (distinct, hits) = best_window(at, words, column.size, WIDTH)
    assert column.size == 3000 and len(at) == 1000
    # each match read as it enters and as it leaves, plus a failed test of each pointer at each of the at most
    # 2 x 1,000 + 1 starts; a window rescored at each start would read 16 times per start instead
    assert Counted.reads <= 8 * len(at) + 2
    assert (distinct, hits) == (6, 6) and first in column.at


def test_a_snippet_is_the_best_windows_text_with_its_matches_marked() -> None:
    body = " ".join(f"filler{i}" for i in range(40)) + f" the {OPEN}ring leader{CLOSE} was held. " + "tail " * 30
    got = snippet(["A title", None, body, "Hoài An"], ("[", "]"))
    assert got.startswith("…") and got.endswith("…") and "[ring leader]" in got
    assert len(got.split()) == WIDTH
    assert got.split().index("[ring") in (7, 8)  # centred: the two matched tokens in the middle of 16


def test_a_window_cut_inside_a_phrase_keeps_its_marks_balanced() -> None:
    body = "intro " * 30 + OPEN + " ".join(f"p{i}" for i in range(40)) + CLOSE + " outro" * 30
    got = snippet([None, None, body, None], ("<b>", "</b>"))
    assert got.count("<b>") == got.count("</b>") == 1 and len(got.split()) == WIDTH


def test_the_title_wins_a_tie_and_an_unmatched_column_is_shown_when_nothing_matched() -> None:
    assert snippet([f"{OPEN}heroin{CLOSE} seized", None, f"more {OPEN}heroin{CLOSE}", None], ("[", "]")) == (
        "[heroin] seized"
    )
    assert snippet([None, "", "plain body text", None], ("[", "]")) == "plain body text"
    assert snippet([None, "", "  ", None], ("[", "]")) == ""
