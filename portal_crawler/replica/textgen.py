"""Deterministic English news text in the portal's style.

``outline(rng, published)`` draws an article's headline and shape (title,
paragraph count, photos, byline) and ``write(rng, outline, published)`` its
words, each from a ``random.Random``: the same generator state always gives the
same text. Listings need only the outline, which is cheap. Vocabulary is taken from the kind of news the portal runs:
meetings, conferences, crime busts, international cooperation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

RANKS = [
    "Senior Lieutenant General",
    "Lieutenant General",
    "Major General",
    "Senior Colonel",
    "Colonel",
    "Lieutenant Colonel",
]
PEOPLE = [
    "Luong Tam Quang",
    "Tran Quoc To",
    "Nguyen Van Long",
    "Le Quoc Hung",
    "Nguyen Duy Ngoc",
    "Le Van Tuyen",
    "Pham The Tung",
    "Dang Hong Duc",
    "Nguyen Ngoc Lam",
    "Bui Quang Thanh",
    "Tran Dinh Chung",
    "Nguyen Van Son",
]
UNITS = [
    "Police Department of Criminal Investigation",
    "Traffic Police Department",
    "Fire Prevention, Fighting and Rescue Police Department",
    "Department of Cyber Security and High-Tech Crime Prevention",
    "Immigration Department",
    "Drug-Related Crime Investigation Police Department",
    "People’s Police Academy",
    "People’s Security Academy",
    "Department of Foreign Relations",
    "MPS’s Office",
    "Department of Science & Technology",
    "Police Department for Administrative Management of Social Order",
]
PROVINCES = [
    "Hanoi",
    "Ho Chi Minh City",
    "Da Nang",
    "Hai Phong",
    "Can Tho",
    "Thua Thien - Hue",
    "Quang Ninh",
    "Nghe An",
    "Lao Cai",
    "Dak Lak",
    "Ba Ria - Vung Tau",
    "Khanh Hoa",
    "Lang Son",
    "Binh Duong",
    "Kien Giang",
]
PARTNERS = [
    "Laos",
    "Cambodia",
    "Japan",
    "the Republic of Korea",
    "Australia",
    "the United Kingdom",
    "the Russian Federation",
    "China",
    "the United States",
    "Singapore",
    "France",
    "Germany",
    "Thailand",
    "Indonesia",
]
CRIMES = [
    "drug trafficking",
    "human trafficking",
    "cyber crime",
    "illegal gambling",
    "smuggling and trade fraud",
    "money laundering",
    "high-tech crime",
    "wildlife trafficking",
    "counterfeit goods",
    "illegal debt collection",
]
EVENTS = ["meeting", "conference", "workshop", "ceremony", "working session", "seminar"]
SLOGANS = [
    "For Homeland Security",
    "All people protect national security",
    "Safe Traffic Culture",
    "Drug-free Community",
    "Skillful mass mobilization",
]
VOCABULARY = {
    "rank": RANKS,
    "person": PEOPLE,
    "unit": UNITS,
    "province": PROVINCES,
    "partner": PARTNERS,
    "crime": CRIMES,
    "event": EVENTS,
    "slogan": SLOGANS,
}
REPORTERS = [
    "Phuong Thao",
    "Le Hoa",
    "Viet Thanh",
    "Thu Hung",
    "Phuong Giang",
    "Hoai Nam",
    "Minh Chau",
    "Quang Huy",
    "Bao Ngoc",
    "Thanh Tam",
]
DESKS = ["Editorial Board", "Hoài An", "MPS Portal"]

TITLES = [
    "{province} police bust {crime} ring",
    "Minister receives Ambassador of {partner}",
    "Vietnam, {partner} step up cooperation in combating {crime}",
    "{unit} reviews task performance in first half of {year}",
    "MPS holds {event} on prevention of {crime}",
    "Deputy Minister {person} works with {province} police",
    "“{slogan}” movement launched in {province}",
    "{province} police receive citizens’ applications for chip-based ID cards",
    "Public Security Forces launch emulation movement for {year}",
    "People’s Public Security Forces mark {anniversary}th founding anniversary",
    "MPS’s delegation pays working visit to {partner}",
    "{unit} honored for outstanding achievements in {year}",
]
SENTENCES = [
    "{rank} {person}, Deputy Minister of Public Security, chaired the {event}.",
    "According to the report, in {year} the police of {province} detected and handled "
    "{cases} cases of {crime}, arresting {suspects} suspects.",
    "Delegates discussed shortcomings in the fight against {crime} and proposed "
    "solutions to improve the efficiency of the work in the coming time.",
    "Speaking at the {event}, {rank} {person} asked the {unit} to step up the prevention "
    "of {crime} and protect people’s lives & property.",
    "The {unit} will continue to advise the MPS’s leaders on measures to ensure security and order in {province}.",
    "He highly appreciated the efforts of the police of {province}, affirming that the "
    "results have contributed to the “{slogan}” movement.",
    "The two sides agreed to strengthen the exchange of information with {partner} and "
    "to cooperate in training, especially on {crime} prevention.",
    "Over the past years, the {unit} has closely coordinated with relevant agencies to "
    "detect and dismantle many rings involved in {crime}.",
    "On this occasion, outstanding teams and individuals were awarded Certificates of "
    "Merit from the Minister of Public Security.",
    "The police of {province} have also promoted the application of information "
    "technology in administrative procedures for citizens.",
]
CAPTIONS = [
    "{rank} {person} speaks at the {event}.",
    "Overview of the {event}.",
    "Delegates at the {event}.",
    "The suspects and exhibits seized in {province}.",
    "{rank} {person} presents Certificates of Merit to outstanding individuals.",
]


def pick(rng: random.Random, choices: list[str]) -> str:
    """``rng.choice``, cheaper: one float per draw."""
    return choices[int(rng.random() * len(choices))]


@dataclass(frozen=True)
class Outline:
    """An article's shape and headline, drawn cheaply before its words."""

    title: str
    paragraphs: int
    photos: list[tuple[int, bool]]  # (paragraph index it follows, has a caption)
    byline: str | None


class Fields(dict):
    """Template fields, each drawn from the vocabulary only when used."""

    def __init__(self, rng: random.Random, published: date) -> None:
        super().__init__(year=published.year, anniversary=published.year - 1945)
        self.rng = rng

    def __missing__(self, name: str) -> str | int:
        if name in ("cases", "suspects"):
            return 12 + int(self.rng.random() * 1500)
        return pick(self.rng, VOCABULARY[name])


def fill(rng: random.Random, template: str, published: date) -> str:
    """A template with its {fields} drawn from the vocabulary."""
    return template.format_map(Fields(rng, published))


def opening(rng: random.Random, published: date) -> str:
    """The first paragraph, with its ``MPS - `` dateline."""
    held = published - timedelta(days=int(rng.random() * 2))
    purpose = fill(rng, "review the prevention of {crime} in {province}", published)
    return f"MPS - The {pick(rng, UNITS)} on {held:%B} {held.day} held a {pick(rng, EVENTS)} to {purpose}. " + fill(
        rng, pick(rng, SENTENCES), published
    )


def paragraph(rng: random.Random, published: date) -> str:
    count = 1 + int(rng.random() * 4)
    return " ".join(fill(rng, pick(rng, SENTENCES), published) for _ in range(count))


def byline(rng: random.Random) -> str | None:
    """``by X``, ``By X``, a bare name, a desk, or none."""
    roll = rng.random()
    name = pick(rng, REPORTERS)
    if roll < 0.45:
        return f"by {name}"
    if roll < 0.70:
        return f"By {name}"
    if roll < 0.80:
        return name
    return pick(rng, DESKS) if roll < 0.90 else None


def outline(rng: random.Random, published: date) -> Outline:
    """3 to 12 paragraphs, 0 to 4 photos (most captioned), a byline or none."""
    title = fill(rng, pick(rng, TITLES), published)
    paragraphs = 3 + int(rng.random() * 10)
    spots = sorted(rng.sample(range(paragraphs), min(int(rng.random() * 5), paragraphs)))
    photos = [(spot, rng.random() < 0.8) for spot in spots]
    return Outline(title, paragraphs, photos, byline(rng))


def write(rng: random.Random, shape: Outline, published: date) -> tuple[list[str], list[str | None]]:
    """The paragraphs and photo captions of an outlined article."""
    paragraphs = [opening(rng, published)]
    paragraphs += [paragraph(rng, published) for _ in range(shape.paragraphs - 1)]
    captions = [fill(rng, pick(rng, CAPTIONS), published) if captioned else None for _, captioned in shape.photos]
    return paragraphs, captions


def revision_note(rng: random.Random, version: int, published: date) -> str:
    """The paragraph an edit adds, different for each version."""
    return (
        f"Update {version}: "
        + fill(rng, pick(rng, SENTENCES), published)
        + " "
        + fill(rng, pick(rng, SENTENCES), published)
    )
