"""What changed between two versions of an article: per field, per body paragraph and caption, word by word.

difflib (stdlib) is all this needs, so nothing else is used: `SequenceMatcher`
aligns the paragraphs of two bodies and, inside a changed paragraph, its
tokens (words, runs of white space, single punctuation marks), which is
exactly a word-level diff. What diff libraries add beyond that (patches to
apply, line-based hunks, character-level clean-up as in diff-match-patch) is
not what an archivist reads.

A change whose words are all the same (only white space or punctuation
differs) is kept and marked `minor`. The summary is not compared: it comes
from the listing, not the page, and does not make a version (catalogue.content).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from portal_crawler.catalogue.content import by_path

Op = Literal["equal", "delete", "insert"]
Kind = Literal["added", "removed", "changed"]
TEXT_FIELDS = ("title", "published", "author")
_TOKEN = re.compile(r"\s+|[^\W_]+|[\W_]")  # a word, a run of white space, or one punctuation mark
_WORD = re.compile(r"[^\W_]+")
PART_LABELS = {"paragraph": "body paragraphs", "caption": "captions", "image": "images"}
PAIRING = 0.5  # two paragraphs sharing at least half their words (difflib's ratio) are one paragraph edited


@dataclass(frozen=True)
class Segment:
    op: Op
    text: str


@dataclass(frozen=True)
class Change:
    """One changed part: `title`, `published`, `author`, a `paragraph`, a `caption` or an `image`.

    Positions count from 1 in the old and the new version (None where the part is not there).
    """

    part: str
    kind: Kind
    old_position: int | None
    new_position: int | None
    minor: bool
    segments: tuple[Segment, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        segments = tuple(Segment(s["op"], s["text"]) for s in data["segments"])
        return cls(data["part"], data["kind"], data["old_position"], data["new_position"], data["minor"], segments)


@dataclass(frozen=True)
class VersionDiff:
    """Version `old` (None: nothing before it) against version `new` of one article."""

    article_id: str
    old: int | None
    new: int
    changes: tuple[Change, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VersionDiff:
        changes = tuple(Change.from_dict(c) for c in data["changes"])
        return cls(data["article_id"], data["old"], data["new"], changes)

    def summary(self) -> str:
        """`title changed; 1 paragraph added, 2 changed (1 minor); images: 1 removed`, in the parts' order."""
        if self.old is None:
            return "first version"
        if not self.changes:
            return "no change in title, date, author, body, captions or images"
        return "; ".join(_part_summary(part, [c for c in self.changes if c.part == part]) for part in self._parts())

    def _parts(self) -> list[str]:
        return list(dict.fromkeys(c.part for c in self.changes))


def _part_summary(part: str, changes: list[Change]) -> str:
    if part in TEXT_FIELDS:
        return f"{'date' if part == 'published' else part} changed" + (" (minor)" if changes[0].minor else "")
    counts = []
    for kind in ("added", "removed", "changed"):
        of_kind = [c for c in changes if c.kind == kind]
        if of_kind:
            minor = sum(c.minor for c in of_kind)
            counts.append(f"{len(of_kind)} {kind}" + (f" ({minor} minor)" if minor else ""))
    return f"{PART_LABELS[part]}: {', '.join(counts)}"


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def is_minor(old: str, new: str) -> bool:
    """Only white space or punctuation differs: the same words in the same order (case counts)."""
    return _WORD.findall(old) == _WORD.findall(new)


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """The two texts as equal, deleted and inserted runs of tokens, in reading order."""
    before, after = tokens(old), tokens(new)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(Segment("equal", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(before[i1:i2])))
        if j2 > j1:
            segments.append(Segment("insert", "".join(after[j1:j2])))
    return tuple(segments)


def similarity(old: str, new: str) -> float:
    return SequenceMatcher(None, _WORD.findall(old), _WORD.findall(new), autojunk=False).ratio()


def _match(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (i, j), rising in both, of old and new parts similar enough to be one part edited."""
    pairs: list[tuple[int, int]] = []
    start = 0
    for i, text in enumerate(old):
        scored = [(similarity(text, new[j]), -j) for j in range(start, len(new))]
        if scored and max(scored)[0] >= PAIRING:
            j = -max(scored)[1]
            pairs.append((i, j))
            start = j + 1
    return pairs


def align(old: Sequence[str], new: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Every part that differs, in reading order: (i, None) removed, (None, j) added, (i, j) changed."""
    aligned: list[tuple[int | None, int | None]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        i, j = i1, j1
        for pi, pj in [*_match(old[i1:i2], new[j1:j2]), (i2 - i1, j2 - j1)]:
            aligned += [(k, None) for k in range(i, i1 + pi)] + [(None, k) for k in range(j, j1 + pj)]
            if i1 + pi < i2:
                aligned.append((i1 + pi, j1 + pj))
            i, j = i1 + pi + 1, j1 + pj + 1
    return aligned


def _part_changes(part: str, old: Sequence[str], new: Sequence[str]) -> list[Change]:
    changes = []
    for i, j in align(old, new):
        before, after = ("" if i is None else old[i]), ("" if j is None else new[j])
        kind: Kind = "removed" if j is None else "added" if i is None else "changed"
        minor = kind == "changed" and is_minor(before, after)
        position = (None if i is None else i + 1, None if j is None else j + 1)
        changes.append(Change(part, kind, *position, minor, word_diff(before, after)))
    return changes


def _field_change(field: str, old: str | None, new: str | None) -> list[Change]:
    if (old or "") == (new or ""):
        return []
    kind: Kind = "added" if not old else "removed" if not new else "changed"
    minor = kind == "changed" and is_minor(old or "", new or "")
    return [Change(field, kind, None, None, minor, word_diff(old or "", new or ""))]


def _image_changes(old: Sequence[str], new: Sequence[str]) -> list[Change]:
    """Images by path (a host alias is no change, as for the content hash), in the new version's order."""
    old_paths, new_paths = {by_path(u) for u in old}, {by_path(u) for u in new}
    added = [(None, j + 1, u) for j, u in enumerate(new) if by_path(u) not in old_paths]
    removed = [(i + 1, None, u) for i, u in enumerate(old) if by_path(u) not in new_paths]
    return [
        Change(
            "image",
            "added" if i is None else "removed",
            i,
            j,
            False,
            (Segment("insert" if i is None else "delete", u),),
        )
        for i, j, u in removed + added
    ]


def paragraphs(body: str | None) -> list[str]:
    return [p for p in (body or "").split("\n\n") if p.strip()]


def listed(value: Any) -> list[str]:
    """A JSON array column (captions, images) as a list, whether stored as text or already decoded."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return [str(v) for v in value or [] if v]


def compare(article_id: str, old: dict[str, Any] | None, new: dict[str, Any]) -> VersionDiff:
    """Version row `old` (None for a first version) against `new`: every field, paragraph, caption and image."""
    if old is None:
        return VersionDiff(article_id, None, int(new["version"]), ())
    changes = [c for field in TEXT_FIELDS for c in _field_change(field, old.get(field), new.get(field))]
    changes += _part_changes("paragraph", paragraphs(old.get("body")), paragraphs(new.get("body")))
    changes += _part_changes("caption", listed(old.get("captions")), listed(new.get("captions")))
    changes += _image_changes(listed(old.get("images")), listed(new.get("images")))
    return VersionDiff(article_id, int(old["version"]), int(new["version"]), tuple(changes))
