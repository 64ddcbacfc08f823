"""The replica's article model, built from a seed record or generated.

An article is identified the way the portal identifies it: ``t6294`` in the
legacy layout, the 10-digit publication stamp (``1728975600``) in the current
one. Its photos live under the portal's upload paths:
legacy ``/Uploads/images/YYYY/MM/DD/<id>-<n>.jpg``,
current ``/uploads/YYYY/MM/DD/<id>-<n>.jpg`` (some ``.png``).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from importlib import resources

from portal_crawler.replica import textgen

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
NOT_SLUG = re.compile(r"[^\w\s]|_")


@dataclass(frozen=True)
class Block:
    """A body paragraph (``kind == "p"``) or photo (``kind == "img"``)."""

    kind: str
    text: str | None  # paragraph text, or the photo's caption (None: no caption)
    image: str | None = None  # url path of the photo


@dataclass(frozen=True)
class Article:
    """One article as the replica serves it."""

    id: str
    key: int  # >= 0: generated index; < 0: seed number -1, -2, ...
    stamp: int  # Unix time of publication; orders the listings
    published: date
    title: str
    url_path: str
    byline: str | None
    write_body: Callable[[], tuple[Block, ...]] = field(repr=False, compare=False)
    version: int = 0
    banner: bool = False  # legacy pages up to 2021 open with the banner
    view_count: int | None = None  # some 2020 legacy pages show "Lượt xem"
    images: list[str] = field(default_factory=list)

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        """Paragraphs and photos in page order, written on first use."""
        return self.write_body()

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def date_text(self) -> str:
        """``November, 30 2019``."""
        return f"{MONTHS[self.published.month - 1]}, {self.published.day:02d} {self.published.year}"

    @property
    def paragraphs(self) -> list[str]:
        return [b.text or "" for b in self.blocks if b.kind == "p"]

    @property
    def captions(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind == "img" and b.text]

    @property
    def summary(self) -> str:
        """The listing's one-paragraph sapo: the opening without its dateline."""
        text = " ".join(self.paragraphs[0].split()).removeprefix("MPS - ")
        return text if len(text) <= 220 else text[:220].rsplit(" ", 1)[0] + " …"


def slugify(title: str) -> str:
    """Lower-cased, punctuation dropped, each space a hyphen."""
    return NOT_SLUG.sub("", title.lower()).replace(" ", "-")


def load_seeds() -> list[dict]:
    """The seed records checked in as ``seeds/seeds.json``."""
    text = resources.files("portal_crawler.replica").joinpath("seeds/seeds.json").read_text("utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Identity:
    """Where an article lives: its ID, page and photo paths."""

    id: str
    legacy: bool

    def url_path(self, title: str) -> str:
        if self.legacy:
            return f"/news-events/{slugify(title)}-{self.id}.html"
        return f"/article/{slugify(title)}-{self.id}"

    def image(self, published: date, number: int, ext: str = "jpg") -> str:
        prefix = "/Uploads/images" if self.legacy else "/uploads"
        day = f"{published.year:04d}/{published.month:02d}/{published.day:02d}"
        return f"{prefix}/{day}/{self.id}-{number}.{ext}"


def photo_blocks(paragraphs: list[str], photos: list[tuple[int, str | None]], images: list[str]) -> tuple[Block, ...]:
    """Paragraphs with each photo placed after the paragraph it follows."""
    blocks: list[Block] = []
    pending = list(zip(photos, images, strict=False))
    for number, text in enumerate(paragraphs):
        blocks.append(Block("p", text))
        while pending and pending[0][0][0] == number:
            (_, caption), image = pending.pop(0)
            blocks.append(Block("img", caption, image))
    return tuple(blocks)


def revised(blocks: tuple[Block, ...], seed: int, article_id: str, version: int, published: date) -> tuple[Block, ...]:
    """The body after ``version`` edits: one update paragraph per edit."""
    notes = [
        Block("p", textgen.revision_note(random.Random(f"{seed}:{article_id}:edit:{v}"), v, published))
        for v in range(1, version + 1)
    ]
    return blocks + tuple(notes)


def from_seed(record: dict, key: int, ident: Identity, stamp: int, version: int, seed: int) -> Article:
    """An article rebuilt from one seed record, photos numbered from 1."""
    published = date.fromisoformat(record["published"])
    images: list[str] = []
    blocks: list[Block] = []
    for raw in record["blocks"]:
        if "p" in raw:
            blocks.append(Block("p", raw["p"]))
            continue
        images.append(ident.image(published, len(images) + 1))
        blocks.append(Block("img", raw["img"], images[-1]))
    body = revised(tuple(blocks), seed, ident.id, version, published)
    return Article(
        ident.id,
        key,
        stamp,
        published,
        record["title"],
        ident.url_path(record["title"]),
        record.get("byline_text"),
        lambda: body,
        version,
        bool(record["banner"]) if ident.legacy else False,
        None,
        images,
    )


def generated(seed: int, index: int, ident: Identity, stamp: int, published: date, version: int) -> Article:
    """Generated article ``index``: the same (seed, index) gives the same article."""
    rng = random.Random(seed << 40 | index << 1)
    shape = textgen.outline(rng, published)
    images = [
        ident.image(published, n, "png" if rng.random() < 0.2 else "jpg") for n in range(1, len(shape.photos) + 1)
    ]
    views = 120 + int(rng.random() * 9700) if published.year == 2020 and rng.random() < 0.3 else None

    def write_body() -> tuple[Block, ...]:
        paragraphs, captions = textgen.write(random.Random(seed << 40 | index << 1 | 1), shape, published)
        photos = [(spot, caption) for (spot, _), caption in zip(shape.photos, captions, strict=False)]
        blocks = photo_blocks(paragraphs, photos, images)
        return revised(blocks, seed, ident.id, version, published)

    return Article(
        ident.id,
        index,
        stamp,
        published,
        shape.title,
        ident.url_path(shape.title),
        shape.byline,
        write_body,
        version,
        ident.legacy and published.year <= 2021,
        views if ident.legacy else None,
        images,
    )
