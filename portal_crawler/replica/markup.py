"""HTML helpers shared by the layouts: escaping, real-body quirks, padding.

Real portal bodies are untidy, and the replica reproduces that on purpose
(the same way for seeds and generated articles, chosen by a per-article
``random.Random`` so pages stay byte-for-byte deterministic):

- entities: ``&amp;`` always, and sometimes ``&rsquo;``, ``&ldquo;``/``&rdquo;``,
  ``&#39;``, ``&quot;`` for the characters they stand for;
- ``<br>`` splitting a paragraph at a sentence end (one paragraph; join the
  pieces with a space);
- stray white space and newlines inside ``<p>``, a trailing ``&nbsp;``;
- empty ``<p>&nbsp;</p>`` between blocks (not a paragraph).

Folding runs of white space (``&nbsp;`` included) to one space gives back the
exact text.
"""

from __future__ import annotations

import base64
import html
import random

NAMED = {"’": "&rsquo;", "‘": "&lsquo;", "“": "&ldquo;", "”": "&rdquo;", "'": "&#39;", '"': "&quot;"}
EMPTY_PARAGRAPH = "<p>&nbsp;</p>"


def esc(text: str) -> str:
    """Text or attribute value, escaped (quotes included)."""
    return html.escape(text, quote=True)


def entities(text: str, rng: random.Random) -> str:
    """Escaped text where some characters are written as named entities."""
    escaped = html.escape(text, quote=False)
    if rng.random() < 0.5:
        for char, entity in NAMED.items():
            escaped = escaped.replace(char, entity)
    return escaped


def with_break(text: str, rng: random.Random) -> str:
    """Split once at a sentence end with ``<br>`` (the portal's soft return)."""
    at = text.find(". ", 40)
    if at < 0 or rng.random() > 0.25:
        return text
    return f"{text[: at + 1]}<br>\n{text[at + 2 :]}"


def untidy(text: str, rng: random.Random) -> str:
    """Stray white space: an inner space becomes a newline and indentation."""
    roll = rng.random()
    if roll < 0.2:
        first_space = text.find(" ", 30)
        if first_space > 0:
            text = f"{text[:first_space]}\n\t\t\t{text[first_space + 1 :]}"
    if roll > 0.85:
        text += "&nbsp;"
    return text


def paragraph(text: str, rng: random.Random) -> str:
    """One body paragraph with the portal's quirks."""
    inner = untidy(with_break(entities(text, rng), rng), rng)
    if rng.random() < 0.3:
        return f"<p>\n\t\t\t{inner}\n\t\t</p>"
    return f"<p>{inner}</p>"


def maybe_empty(rng: random.Random, chance: float = 0.15) -> str:
    """Sometimes an empty ``<p>&nbsp;</p>``."""
    return EMPTY_PARAGRAPH + "\n" if rng.random() < chance else ""


def filler(rng: random.Random, size: int) -> str:
    """``size`` characters of base64, like an ASP.NET view state."""
    raw = rng.randbytes(max(0, size) * 3 // 4 + 3)
    return base64.b64encode(raw).decode("ascii")[: max(0, size)]


def rough_size(parts: list[str]) -> int:
    """Encoded size in bytes of a page made of these parts."""
    return sum(len(part.encode("utf-8")) for part in parts)
