"""A run's extraction quality, and the drift alarm it raises when the site stops looking like its profile.

The writer counts, for the articles it catalogues (new or updated), how many
came out `ok`, `partial` and `fallback`, and per field how many did not come
from the profile's selector (a fallback's guess, or nothing). When a field's
share of such articles is over the profile's threshold (and at least
`min_articles` of them), or the crawl saw listing pages it could not read, the
run still archives everything and then raises the alarm: one line, kept in
`runs.alarms`, and exit 3 (`core.errors.EXIT_DRIFT`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from portal_crawler.extraction.profile import DriftSettings

FIELDS = ("title", "published", "author", "paragraphs", "captions", "images")
ALARM_FIELDS = ("title", "published", "author", "paragraphs")  # captions and images may rightly be absent
LISTING_SIGNALS = {
    "listing_untemplated": "listing pages matched no listing template",
    "listing_unknown_links": "links in listing entries matched no article pattern",
    "listing_stops": "listing pages listed nothing new (the walk stopped there)",
    "api_unreadable": "API listing answers were not JSON or had no items where the profile says",
}


@dataclass
class RunQuality:
    """Counts over one run's catalogued articles (picklable, JSON-able)."""

    articles: Counter[str] = field(default_factory=Counter)  # quality -> count
    degraded: Counter[str] = field(default_factory=Counter)  # field -> articles not from the selector
    empty: Counter[str] = field(default_factory=Counter)  # field -> articles with nothing at all
    sources: dict[str, Counter[str]] = field(default_factory=dict)  # field -> source -> count
    samples: dict[str, str] = field(default_factory=dict)  # field -> one article URL
    templates: Counter[str] = field(default_factory=Counter)

    def add(self, article: dict[str, Any]) -> None:
        """One article catalogued as new or updated."""
        self.articles[str(article.get("quality"))] += 1
        self.templates[str(article.get("template"))] += 1
        sources: dict[str, str] = article.get("field_sources") or {}
        for name in FIELDS:
            source = sources.get(name, "selector" if article.get("template") != "fallback" else "none")
            self.sources.setdefault(name, Counter())[source] += 1
            if source != "selector":
                self.degraded[name] += 1
                self.samples.setdefault(name, str(article.get("url")))
            if source == "none":
                self.empty[name] += 1

    @property
    def total(self) -> int:
        return sum(self.articles.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "articles": dict(self.articles),
            "templates": dict(self.templates),
            "fields": {
                name: {"degraded": self.degraded[name], "empty": self.empty[name], "sources": dict(counts)}
                for name, counts in self.sources.items()
            },
        }


def alarms(quality: RunQuality, rule: DriftSettings, signals: dict[str, list[str]]) -> list[str]:
    """What drifted, one phrase each with a sample URL; empty when the run looks like the profile."""
    found = []
    total = quality.total
    for name in ALARM_FIELDS:
        count = quality.degraded[name]
        if count >= rule.min_articles and count > rule.threshold * total:
            how = "empty" if quality.empty[name] == count else "not from the profile's selector"
            found.append(f"{name} {how} in {count}/{total} new articles, e.g. {quality.samples[name]}")
    for key, phrase in LISTING_SIGNALS.items():
        urls = signals.get(key) or []
        if urls:
            found.append(f"{len(urls)} {phrase}, e.g. {urls[0]}")
    return found


def alarm_line(found: list[str]) -> str:
    """The one line on stderr, naming every drifted field and what to run."""
    sample = found[0].rsplit("e.g. ", 1)[-1]
    return f"layout drift: {'; '.join(found)}; run 'portal-crawler probe {sample}'"
