"""Build ``portal_crawler/replica/seeds/seeds.json`` from the seed text captures.

Each capture in ``portal_crawler/replica/seeds/*.txt`` is the visible text of one
live article page: optional banner, title, date, body lines, byline, optional
trailer ("Search"). ``tests/fixtures/expected.json`` says what each body line is
(paragraph or photo caption), so this script only has to recover the *order*
of paragraphs and photos, which the replica needs to rebuild the page.

A caption line stands for an image row followed by its caption; 2021+
captures print each caption twice in a row, and the pair becomes one photo.
The output is checked in and reviewed as a diff; the replica reads only it.

Usage: python scripts/build_seed_fixtures.py [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "portal_crawler" / "replica" / "seeds"
EXPECTED = ROOT / "tests" / "fixtures" / "expected.json"
OUTPUT = SEED_DIR / "seeds.json"
BANNER = "Ministry of Public Security Portal is under construction"
ID_IN_URL = re.compile(r"-t(\d+)\.html$")
UNKNOWN_URL_ID = "t9402"  # seed 002: a 2024 article whose live URL is unknown


def fold(text: str) -> str:
    """Runs of white space become one space, ends trimmed."""
    return " ".join(text.split())


def legacy_id(url: str | None) -> str:
    """The portal's article ID (``t6294``) from the live URL, if there is one."""
    match = ID_IN_URL.search(url or "")
    return f"t{match.group(1)}" if match else UNKNOWN_URL_ID


def body_blocks(lines: list[str], expected: dict) -> list[dict]:
    """Paragraph and photo blocks, in page order, from the body lines."""
    paragraphs = {fold(p) for p in expected["paragraphs"]}
    captions = {fold(c) for c in expected["captions"]}
    blocks: list[dict] = []
    for line in lines:
        text = fold(line)
        if text in captions:
            if blocks and blocks[-1].get("img") == text:
                continue  # 2021+ template prints each caption twice
            blocks.append({"img": text})
        elif text in paragraphs:
            blocks.append({"p": line.strip()})
        else:
            raise ValueError(f"{expected['seed']}: unclassified line {text[:60]!r}")
    return blocks


def split_capture(text: str, expected: dict) -> tuple[bool, str, str, list[str], str | None]:
    """Banner flag, title, date text, body lines and byline of one capture."""
    lines = [line for line in text.splitlines() if line.strip()]
    banner = bool(lines) and fold(lines[0]) == BANNER
    lines = lines[1:] if banner else lines
    trailer = [fold(t) for t in expected["page_trailer"]]
    while trailer and lines and fold(lines[-1]) == trailer[-1]:
        lines.pop()
        trailer.pop()
    byline = expected.get("byline_text")
    if byline is not None:
        if fold(lines[-1]) != fold(byline):
            raise ValueError(f"{expected['seed']}: byline is not the last body line")
        lines.pop()
    return banner, lines[0].strip(), lines[1].strip(), lines[2:], byline


def check(record: dict, expected: dict) -> None:
    """Fail loudly unless the record reproduces the ground truth."""
    paragraphs = [fold(b["p"]) for b in record["blocks"] if "p" in b]
    captions = [b["img"] for b in record["blocks"] if "img" in b]
    problems = [
        name
        for name, got, want in [
            ("title", record["title"], expected["title"]),
            ("date_text", record["date_text"], expected["date_text"]),
            ("banner", record["banner"], expected["page_has_banner"]),
            ("paragraphs", paragraphs, [fold(p) for p in expected["paragraphs"]]),
            ("captions", captions, [fold(c) for c in expected["captions"]]),
        ]
        if got != want
    ]
    if problems:
        raise ValueError(f"{expected['seed']}: mismatch in {', '.join(problems)}")


def build_record(path: Path, expected: dict) -> dict:
    """One seed's structured record."""
    banner, title, date_text, lines, byline = split_capture(path.read_text("utf-8"), expected)
    record = {
        "seed": path.name,
        "url": expected.get("url"),
        "legacy_id": legacy_id(expected.get("url")),
        "title": title,
        "date_text": date_text,
        "published": expected["published"],
        "byline_text": byline,
        "banner": banner,
        "blocks": body_blocks(lines, expected),
    }
    check(record, expected)
    return record


def build() -> str:
    """The JSON text of seeds.json."""
    truth = {entry["seed"]: entry for entry in json.loads(EXPECTED.read_text("utf-8"))}
    records = [build_record(path, truth[path.name]) for path in sorted(SEED_DIR.glob("*.txt"))]
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if seeds.json is stale")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        stale = not OUTPUT.exists() or OUTPUT.read_text("utf-8") != text
        print(f"{OUTPUT.relative_to(ROOT)}: {'stale' if stale else 'up to date'}")
        return int(stale)
    OUTPUT.write_text(text, "utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
