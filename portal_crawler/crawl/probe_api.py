"""The probe of a JSON API URL: what an answer holds, and what the profile's paths make of it.

On the first day against the live API nobody knows its field names; the
outline (`data.content[0].articleId = 200039`, one line per leaf, the first
element of each list) shows what to write in the profile's `[api]` paths. A
listing answer is then read with the profile's paths like a listing page (its
entries, their dates), and a detail answer like an article page (each field
with its source), by the same code the crawl and `reindex` use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from portal_crawler.crawl.probe_reports import FieldReport, ListingReport, PageReport
from portal_crawler.extraction import api
from portal_crawler.extraction.profile import Profile
from portal_crawler.extraction.urls import UrlRules

OUTLINE_LINES = 60  # leaves shown at most
DEPTH = 6


def outline(document: Any, limit: int = OUTLINE_LINES) -> list[str]:
    """`path = value` for the leaves of a JSON document (lists by their first element), at most `limit`."""
    lines: list[str] = []
    for path, value in _leaves(document, "", 0):
        if len(lines) == limit:
            lines.append("… (more fields not shown)")
            break
        lines.append(f"{path or '@'} = {json.dumps(value, ensure_ascii=False)[:80]}")
    return lines


def _leaves(value: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value and depth < DEPTH:
        for key, inner in value.items():
            yield from _leaves(inner, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list) and value and depth < DEPTH:
        yield from _leaves(value[0], f"{path}[0]", depth + 1)
        if len(value) > 1:
            yield f"{path}[…]", f"{len(value)} items"
    else:
        yield path, value


def read_api(body: bytes, report: PageReport, profile: Profile, rules: UrlRules) -> list[api.ApiEntry]:
    """Fill the report for an API answer; a listing's entries (to probe their details next)."""
    assert profile.api is not None
    report.read_as, report.template = report.kind, "api"
    try:
        document = api.load(body, report.url)
        report.outline = outline(document)
        if report.kind == "api_listing":
            return _listing(document, report, profile, rules)
        _detail(document, report, profile, rules)
    except api.ApiAnswerError as error:
        report.problems.append(f"{error} (fix the profile's [api] paths; the outline shows what the answer holds)")
        report.verdict = "drift"
    return []


def _listing(document: Any, report: PageReport, profile: Profile, rules: UrlRules) -> list[api.ApiEntry]:
    entries = api.listing_entries(document, profile.api, rules, report.url, profile.zone)  # type: ignore[arg-type]
    report.listing = ListingReport(entries=len(entries), dates=sum(1 for e in entries if e.listing_date))
    if not entries:
        report.problems.append(f"no items with an ID at {profile.api.listing.items.text!r}")  # type: ignore[union-attr]
    elif report.listing.dates < len(entries):
        report.problems.append(f"{len(entries) - report.listing.dates} items have no date at api.listing.published")
    unknown = [e.info.url for e in entries if (e.info.article_id or "").startswith("api-")]
    if unknown:
        report.problems.append(f"{len(unknown)} item URLs match no article pattern (urls.article), e.g. {unknown[0]}")
    report.verdict = "drift" if report.problems else "ok"
    return entries


def _detail(document: Any, report: PageReport, profile: Profile, rules: UrlRules) -> None:
    article = api.api_article(document, report.url, profile, rules, capture_id=None, fetched_at=None)
    report.revision = article.profile_revision
    sources = article.field_sources

    def many(name: str, values: list[str]) -> FieldReport:
        return FieldReport(values[0] if values else None, sources.get(name, "none"), len(values))

    report.fields = {
        "title": FieldReport(article.title, sources.get("title", "none")),
        "published": FieldReport(article.published, sources.get("published", "none")),
        "author": FieldReport(article.author, sources.get("author", "none")),
        "paragraphs": many("paragraphs", article.paragraphs),
        "captions": many("captions", article.captions),
        "images": many("images", article.images),
    }
    report.problems += article.problems
    report.verdict = "ok" if article.quality == "ok" and not report.problems else "drift"
