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
    # per field (title, published, author, paragraphs, captions, images): "selector", the fallback, or "none"
    field_sources: dict[str, str] = field(default_factory=dict)
    profile_revision: str | None = None  # Profile.revision() of the template that read it ("fallback")

    def __setstate__(self, state: dict[str, object]) -> None:
        """Articles pickled before field_sources existed load with its default."""
        self.__dict__.update({"field_sources": {}, "profile_revision": None, **state})

    @property
    def keepable(self) -> bool:
        """Whether this is an article worth a catalogue row: an ID, and a title or some text."""
        return bool(self.id and (self.paragraphs or self.title))
