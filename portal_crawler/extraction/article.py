"""The Article: what extraction makes of an article page, and what the catalogue stores."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Article:
    id: str
    url: str
    title: str | None
    published: str | None
    author: str | None
    summary: str | None
    body: str
    paragraphs: list[str]
    captions: list[str]
    images: list[str]
    section: str | None
    template: str
    quality: str
    problems: list[str] = field(default_factory=list)
    capture_id: int | None = None
    fetched_at: str | None = None

    @property
    def keepable(self) -> bool:
        """Whether this is an article worth a catalogue row: an ID, and a title or some text."""
        return bool(self.id and (self.paragraphs or self.title))
