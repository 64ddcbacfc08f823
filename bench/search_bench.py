"""Search latency at archive scale: a synthetic 50,000-article catalogue, 200 varied queries.

    .venv/bin/python bench/search_bench.py [N_ARTICLES] [QUERIES]

Prints and returns {"search_p50_ms", "search_p95_ms"} for `portal_crawler.search.search()`
library calls (ranking, snippets and filters included; catalogue build time excluded).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

from portal_crawler.catalogue import Catalogue, content_hash
from portal_crawler.desk.search import search

NEWS_WORDS = [
    "police",
    "ministry",
    "public",
    "security",
    "drug",
    "trafficking",
    "case",
    "investigation",
    "suspect",
    "arrested",
    "province",
    "district",
    "court",
    "fraud",
    "online",
    "cyber",
    "crime",
    "border",
    "smuggling",
    "gold",
    "cigarettes",
    "vehicle",
    "traffic",
    "accident",
    "fire",
    "prevention",
    "cooperation",
    "delegation",
    "minister",
    "general",
    "lieutenant",
    "colonel",
    "officers",
    "forces",
    "combat",
    "training",
    "ceremony",
    "award",
    "medal",
    "anniversary",
    "people",
    "party",
    "state",
    "national",
    "international",
    "conference",
    "meeting",
    "agreement",
    "signed",
    "visit",
    "talks",
    "exchange",
    "experience",
    "information",
    "technology",
    "data",
    "citizen",
    "identification",
    "card",
    "passport",
    "immigration",
    "foreigner",
    "labour",
    "export",
    "prosecution",
    "sentence",
    "prison",
    "detention",
    "amnesty",
    "inmates",
    "rescue",
    "flood",
    "storm",
    "disaster",
    "relief",
    "village",
    "residents",
    "security",
    "order",
    "social",
    "safety",
    "patrol",
    "checkpoint",
    "weapons",
    "explosives",
    "firearms",
    "ammunition",
    "seized",
    "network",
    "ring",
    "gang",
    "leader",
    "members",
    "money",
    "laundering",
    "bank",
    "accounts",
    "transfer",
    "scam",
    "phone",
    "calls",
    "victims",
    "property",
    "land",
    "dispute",
    "corruption",
    "bribery",
    "officials",
    "abuse",
    "power",
    "embezzlement",
    "state",
    "budget",
    "funds",
    "project",
    "contract",
    "tender",
    "violation",
    "regulations",
    "law",
    "decree",
    "circular",
    "resolution",
    "directive",
    "campaign",
    "movement",
    "emulation",
]
PLACES = [
    "Hà Nội",
    "Hồ Chí Minh City",
    "Đà Nẵng",
    "Hải Phòng",
    "Cần Thơ",
    "Quảng Ninh",
    "Nghệ An",
    "Lào Cai",
    "Điện Biên",
    "Sơn La",
    "Thanh Hóa",
    "Khánh Hòa",
    "Bình Dương",
    "Đồng Nai",
    "Long An",
    "An Giang",
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
GIVEN = ["Hoài An", "Minh Tuấn", "Thu Hà", "Văn Lượt", "Quốc Bảo", "Thanh Hương", "Đức Anh", "Ngọc Lan", "Hữu Phước"]
SYLLABLES = [
    "an",
    "anh",
    "bao",
    "binh",
    "cuong",
    "dung",
    "duc",
    "giang",
    "hai",
    "hanh",
    "hieu",
    "hoa",
    "hung",
    "huong",
    "khanh",
    "lam",
    "linh",
    "long",
    "minh",
    "nam",
    "ngoc",
    "phong",
    "phuc",
    "quang",
    "son",
    "tam",
    "thanh",
    "thao",
    "trung",
    "tuan",
    "van",
    "viet",
    "xuan",
]


STOPWORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "for",
    "on",
    "with",
    "was",
    "by",
    "at",
    "from",
    "that",
    "as",
    "is",
    "were",
    "has",
    "said",
    "its",
    "their",
    "this",
    "be",
    "have",
    "had",
    "are",
    "which",
    "after",
    "also",
    "an",
    "who",
    "been",
    "more",
    "than",
    "two",
    "under",
    "over",
    "into",
]


def vocabulary(rng: random.Random, size: int = 8000) -> list[str]:
    """Function words first, then news words spread among generated rarer terms; Zipf-ranked by position."""
    extra = {
        rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(["", "s", "ing", "ed", "ion"])
        for _ in range(size * 2)
    }
    rare = sorted(extra - set(NEWS_WORDS))
    rng.shuffle(rare)
    content = rare[: size - len(NEWS_WORDS) - len(STOPWORDS)]
    for rank, word in enumerate(NEWS_WORDS):  # topic words between ranks ~0 and ~3000 of the content words
        content.insert(rank * 20 + rng.randrange(20), word)
    return STOPWORDS + content


class TextMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng, self.words = rng, vocabulary(rng)
        self.cum = list(accumulate(1 / (rank + 8) for rank in range(len(self.words))))

    def sentence(self, low: int = 10, high: int = 22) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cum, k=self.rng.randint(low, high))
        if self.rng.random() < 0.1:
            words.insert(self.rng.randrange(len(words)), f"in {self.rng.choice(PLACES)}")
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def article(self, n: int) -> dict:
        rng = self.rng
        body = "\n\n".join(
            " ".join(self.sentence() for _ in range(rng.randint(2, 5))) for _ in range(rng.randint(3, 7))
        )
        year, month, day = rng.randint(2012, 2025), rng.randint(1, 12), rng.randint(1, 28)
        row = {
            "id": f"t{n}",
            "url": f"https://en.mps.gov.vn/news/t{n}.html",
            "title": self.sentence(5, 11)[:-1],
            "published": f"{year}-{month:02d}-{day:02d}",
            "author": f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
            "summary": self.sentence(),
            "body": body,
            "captions": json.dumps([self.sentence(4, 9)], ensure_ascii=False),
            "images": "[]",
            "section": "news",
            "template": "current",
            "quality": "ok",
            "problems": "[]",
        }
        row["content_hash"] = content_hash(row)
        return row


def build(path: Path, n_articles: int, seed: int = 1) -> TextMaker:
    """A catalogue of n synthetic articles: one transaction, FTS triggers off, FTS rebuilt once."""
    catalogue, maker = Catalogue(path), TextMaker(random.Random(seed))
    conn = catalogue.conn
    triggers = [
        sql for (sql,) in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'")
    ]
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'"
    ).fetchall():
        conn.execute(f"DROP TRIGGER [{name}]")
    columns = list(maker.article(0))
    insert = (
        f"INSERT INTO articles ({', '.join(columns)}, first_seen, last_seen, version)"
        f" VALUES ({', '.join('?' * len(columns))}, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 1)"
    )
    with conn:
        conn.executemany(insert, ([a[c] for c in columns] for a in map(maker.article, range(1, n_articles + 1))))
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        for sql in triggers:
            conn.execute(sql)
    catalogue.close()
    return maker


def make_queries(maker: TextMaker, count: int, seed: int = 2) -> list[tuple[str, dict]]:
    """Common and rare words, AND pairs, phrases, prefixes, OR, column filters; a fifth with date/author filters."""
    rng, words = random.Random(seed), maker.words
    content = words[len(STOPWORDS) :]
    common, middle, rare = content[:40], content[40:600], content[600:]
    shapes = [
        lambda: rng.choice(common),
        lambda: rng.choice(NEWS_WORDS),
        lambda: rng.choice(rare),
        lambda: f"{rng.choice(NEWS_WORDS)} {rng.choice(NEWS_WORDS)}",
        lambda: f'"{rng.choice(common)} {rng.choice(common)}"',
        lambda: rng.choice(NEWS_WORDS)[:6] + "*",
        lambda: f"{rng.choice(middle)} OR {rng.choice(rare)}",
        lambda: f"title:{rng.choice(middle)}",
        lambda: rng.choice(PLACES),
        lambda: f"{rng.choice(SURNAMES)}",
    ]
    out = []
    for i in range(count):
        filters: dict = {}
        if i % 5 == 4:
            filters = rng.choice(
                [{"since": "2020-01-01"}, {"author": rng.choice(GIVEN)}, {"since": "2016-01-01", "until": "2016-12-31"}]
            )
        out.append((shapes[i % len(shapes)](), filters))
    return out


def run(n_articles: int = 50000, queries: int = 200) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        maker = build(Path(tmp) / "catalogue.db", n_articles)
        built = time.perf_counter() - started
        catalogue = Catalogue.reader(Path(tmp) / "catalogue.db")  # as the search command opens it
        timings = []
        for query, filters in make_queries(maker, queries):
            started = time.perf_counter()
            search(catalogue, query, limit=20, **filters)
            timings.append((time.perf_counter() - started) * 1000)
        catalogue.close()
    result = {
        "search_p50_ms": round(statistics.median(timings), 2),
        "search_p95_ms": round(statistics.quantiles(timings, n=20)[18], 2),
    }
    print(
        f"search over {n_articles} articles (built in {built:.1f} s), {queries} queries: "
        f"p50 {result['search_p50_ms']} ms, p95 {result['search_p95_ms']} ms"
    )
    return result


if __name__ == "__main__":
    run(*(int(a) for a in sys.argv[1:3]))
