"""A version diff (desk.diff) as text for a terminal or a pipe, and as HTML for the Datasette reading room.

Text marks deletions `[-like this-]` and insertions `{+like this+}` (wdiff's and
`git diff --word-diff`'s convention, so white space and punctuation changes stay
visible), coloured red and green on a terminal. Long unchanged stretches inside
a changed paragraph are cut to a few words either side of each change.
"""

from __future__ import annotations

from html import escape

from portal_crawler.desk.diff import Change, Segment, VersionDiff, tokens

CONTEXT_WORDS = 12  # unchanged words kept on each side of a change inside a paragraph
ELLIPSIS = " … "
MARKS = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}
COLOURS = {"delete": "\x1b[31m", "insert": "\x1b[32m"}
RESET = "\x1b[0m"
MINOR_NOTE = "minor: white space or punctuation only"
NAMES = {"published": "date"}


def label(change: Change) -> str:
    """`paragraph 3 changed`, `paragraph 2 removed`, `title changed`, `caption 1 added`, `image 2 added`."""
    name = NAMES.get(change.part, change.part)
    where = change.old_position if change.kind == "removed" else change.new_position
    moved = (
        f" (was {change.old_position})"
        if change.kind == "changed" and change.old_position not in (None, change.new_position)
        else ""
    )
    position = f" {where}" if where is not None else ""
    return f"{name}{position}{moved} {change.kind}"


def _cut(text: str, keep_head: bool, keep_tail: bool, words: int) -> str:
    """An unchanged stretch shortened to `words` tokens at the ends that touch a change."""
    parts = tokens(text)
    span = 2 * words  # word and white-space tokens alternate: two tokens a word
    if len(parts) <= span * (keep_head + keep_tail) + span:
        return text
    head = "".join(parts[:span]).rstrip() if keep_head else ""
    tail = "".join(parts[-span:]).lstrip() if keep_tail else ""
    return f"{head}{ELLIPSIS}{tail}" if head and tail else f"{head} …" if head else f"… {tail}"


def shortened(change: Change, words: int = CONTEXT_WORDS) -> list[Segment]:
    """The change's segments with long unchanged stretches cut (whole text when added or removed)."""
    if change.kind != "changed":
        return list(change.segments)
    last = len(change.segments) - 1
    return [
        Segment(s.op, _cut(s.text, keep_head=n > 0, keep_tail=n < last, words=words)) if s.op == "equal" else s
        for n, s in enumerate(change.segments)
    ]


def _marked(segment: Segment, colour: bool) -> str:
    if segment.op == "equal":
        return segment.text
    opening, closing = MARKS[segment.op]
    text = f"{opening}{segment.text}{closing}"
    return f"{COLOURS[segment.op]}{text}{RESET}" if colour else text


def change_text(change: Change, colour: bool = False) -> str:
    heading = label(change) + (f" ({MINOR_NOTE})" if change.minor else "") + ":"
    return f"{heading}\n    " + "".join(_marked(s, colour) for s in shortened(change))


def render_text(diff: VersionDiff, heading: str, colour: bool = False) -> str:
    """The heading, the summary, then each change with its words marked."""
    return "\n\n".join([f"{heading}\n{diff.summary()}", *(change_text(change, colour) for change in diff.changes)])


def _html_segment(segment: Segment) -> str:
    text = escape(segment.text)
    return text if segment.op == "equal" else f"<{segment.op[:3]}>{text}</{segment.op[:3]}>"


def change_html(change: Change) -> str:
    classes = "portal-change portal-minor" if change.minor else "portal-change"
    note = f' <span class="portal-minor-note">{MINOR_NOTE}</span>' if change.minor else ""
    body = "".join(_html_segment(s) for s in shortened(change, words=2 * CONTEXT_WORDS))
    return (
        f'<div class="{classes}" data-part="{escape(change.part)}" data-kind="{change.kind}">'
        f'<div class="portal-part">{escape(label(change))}{note}</div><p>{body}</p></div>'
    )


def render_html(diff: VersionDiff) -> str:
    """The summary and each change, deletions in <del> and insertions in <ins>; every text escaped."""
    changes = "".join(change_html(change) for change in diff.changes)
    return f'<div class="portal-diff"><div class="portal-summary">{escape(diff.summary())}</div>{changes}</div>'
