"""Site profiles: what the crawler knows about one portal, loaded from TOML and validated.

A profile is data only: hosts, start URLs, URL patterns, and per template the
selectors that find each field. Loading checks every regex and selector and
fails with the file and key at fault, so a typo never reaches a crawl.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal_crawler.extraction.api_profile import ApiSource, parse_api
from portal_crawler.extraction.cleaners import CLEANERS
from portal_crawler.extraction.profile_reader import DEFAULT_CLEANERS, ArticleTemplate, ProfileError, Reader

__all__ = ["DEFAULT_CLEANERS", "ApiSource", "ArticleTemplate", "ListingTemplate", "Profile", "ProfileError"]

PROFILES_PACKAGE = "portal_crawler.profiles"


@dataclass(frozen=True)
class UrlPatterns:
    listing: tuple[re.Pattern[str], ...]
    article: tuple[re.Pattern[str], ...]
    requisite: tuple[re.Pattern[str], ...]
    deny: tuple[re.Pattern[str], ...]
    page_param: str = "Page"
    id_query_param: str | None = None
    id_query_prefix: str = ""
    default_section: str = ""


@dataclass(frozen=True)
class ListingTemplate:
    name: str
    signature: str
    item: str
    link: str
    summary: str
    pager_links: str
    date: str | None = None  # within an item: the date the listing prints for the entry
    date_formats: tuple[str, ...] = ()  # the profile's [dates] formats and zone, to read it
    zone: str = "UTC"


@dataclass(frozen=True)
class DriftSettings:
    """When a run's extraction counts as layout drift ([drift] in the profile)."""

    threshold: float = 0.2  # share of degraded articles for a field above which the run raises the alarm
    min_articles: int = 3  # fewer articles in a run than this never raise it
    challenge_streak: int = 5  # challenge pages in a row that stop the run


@dataclass(frozen=True)
class Profile:
    name: str
    source: str
    hosts: tuple[str, ...]
    start_urls: tuple[str, ...]
    urls: UrlPatterns
    listing_templates: tuple[ListingTemplate, ...]
    templates: tuple[ArticleTemplate, ...]
    date_formats: tuple[str, ...]
    description: str = ""
    ref: str = ""  # what load_profile was given (a name or a path), to load it again elsewhere
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    drift: DriftSettings = field(default_factory=DriftSettings)
    zone: str = "UTC"  # [dates] zone: where the portal's days begin (10-digit IDs are read in it)
    api: ApiSource | None = None  # [api]: the JSON API the 2025+ portal's pages are filled from
    _revisions: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def revision(self, template_name: str) -> str:
        """A short hash of what a template extracts with: its selectors, cleaners, drop patterns and the
        profile's date formats and zone; "fallback" for the generic fallback.

        Stored with each article version, so after a profile fix the rows made by the old rules can be told
        from the new ones. A change to another template leaves this one's revision alone.
        """
        if template_name == "fallback":
            return "fallback"
        if template_name == "api" and self.api is not None and "api" not in self._revisions:
            rules = {**self.api.rules_text(), "date_formats": list(self.date_formats), "zone": self.zone}
            self._revisions["api"] = hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:12]
        if template_name not in self._revisions:
            template = next((t for t in self.templates if t.name == template_name), None)
            if template is None:
                raise KeyError(f"{self.source}: no article template {template_name!r}")
            self._revisions[template_name] = _revision(template, self.date_formats, self.zone)
        return self._revisions[template_name]


def _revision(template: ArticleTemplate, date_formats: tuple[str, ...], zone: str) -> str:
    rules = {
        **{name: getattr(template, name) for name in ARTICLE_SELECTORS},
        "drop_patterns": [p.pattern for p in template.drop_patterns],
        "cleaners": template.cleaners,
        "date_formats": list(date_formats),
        "zone": zone,
    }
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode("utf-8")).hexdigest()[:12]


def _url_patterns(r: Reader, t: dict[str, Any]) -> UrlPatterns:
    article = r.regexes(t, "article", "urls.article")
    for i, pattern in enumerate(article):
        if "id" not in pattern.groupindex:
            raise r.fail(f"urls.article[{i}]", "needs a named group (?P<id>...)")
    return UrlPatterns(
        listing=r.regexes(t, "listing", "urls.listing"),
        article=article,
        requisite=r.regexes(t, "requisite", "urls.requisite", []),
        deny=r.regexes(t, "deny", "urls.deny", []),
        page_param=r.get(t, "page_param", "urls.page_param", str, "Page"),
        id_query_param=r.get(t, "id_query_param", "urls.id_query_param", str, None),
        id_query_prefix=r.get(t, "id_query_prefix", "urls.id_query_prefix", str, ""),
        default_section=r.get(t, "default_section", "urls.default_section", str, ""),
    )


def _listing_template(r: Reader, t: dict[str, Any], path: str, formats: tuple[str, ...], zone: str) -> ListingTemplate:
    keys = ("signature", "item", "link", "summary", "pager_links")
    values = {k: r.selector(t, k, f"{path}.{k}") for k in keys}
    date = r.selector(t, "date", f"{path}.date") if "date" in t else None
    name = r.get(t, "name", f"{path}.name", str)
    return ListingTemplate(name=name, date=date, date_formats=formats, zone=zone, **values)


ARTICLE_SELECTORS = ("signature", "title", "published", "body", "paragraph", "caption", "byline", "images")


def _article_template(r: Reader, t: dict[str, Any], path: str) -> ArticleTemplate:
    values = {k: r.selector(t, k, f"{path}.{k}") for k in ARTICLE_SELECTORS}
    drops = r.regexes(t, "drop_patterns", f"{path}.drop_patterns", [])
    cleaners = {**DEFAULT_CLEANERS, **r.get(t, "cleaners", f"{path}.cleaners", dict, {})}
    for name, cleaner in cleaners.items():
        if name not in DEFAULT_CLEANERS or cleaner not in CLEANERS:
            raise r.fail(
                f"{path}.cleaners.{name}", f"unknown field or cleaner {cleaner!r} (cleaners: {', '.join(CLEANERS)})"
            )
    return ArticleTemplate(name=r.get(t, "name", f"{path}.name", str), drop_patterns=drops, cleaners=cleaners, **values)


def _tables(r: Reader, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    tables = r.get(data, key, key, list)
    if not tables or not all(isinstance(t, dict) for t in tables):
        raise r.fail(key, f"expected one or more [[{key}]] tables")
    return tables


def _drift(r: Reader, data: dict[str, Any]) -> DriftSettings:
    table = r.get(data, "drift", "drift", dict, {})
    unknown = sorted(set(table) - set(DriftSettings.__dataclass_fields__))
    if unknown:
        raise r.fail(f"drift.{unknown[0]}", "unknown setting (settings: threshold, min_articles, challenge_streak)")
    threshold = table.get("threshold", DriftSettings.threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise r.fail("drift.threshold", f"expected a share from 0 to 1, got {threshold!r}")
    counts = {}
    for key in ("min_articles", "challenge_streak"):
        value = r.get(table, key, f"drift.{key}", int, getattr(DriftSettings, key))
        if isinstance(value, bool) or value < 1:
            raise r.fail(f"drift.{key}", f"expected a whole number of 1 or more, got {value!r}")
        counts[key] = value
    return DriftSettings(threshold=float(threshold), **counts)


def _zone(r: Reader, dates: dict[str, Any]) -> str:
    zone = r.get(dates, "zone", "dates.zone", str, "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("dates.zone", f"unknown time zone {zone!r} (an IANA name such as 'Asia/Ho_Chi_Minh')") from None
    return zone


def parse_profile(data: dict[str, Any], source: str) -> Profile:
    """Build a validated Profile from a parsed TOML document."""
    r = Reader(source)
    dates = r.get(data, "dates", "dates", dict, {})
    formats, zone = r.strings(dates, "formats", "dates.formats", ["%Y-%m-%d"]), _zone(r, dates)
    listing = [
        _listing_template(r, t, f"listing_templates[{i}]", formats, zone)
        for i, t in enumerate(_tables(r, data, "listing_templates"))
    ]
    templates = [_article_template(r, t, f"templates[{i}]") for i, t in enumerate(_tables(r, data, "templates"))]
    names = [t.name for t in templates]
    if len(set(names)) != len(names) or {"fallback", "api"} & set(names):
        raise r.fail("templates", "template names must be unique and not 'fallback' or 'api'")
    return Profile(
        name=r.get(data, "name", "name", str),
        source=source,
        description=r.get(data, "description", "description", str, ""),
        hosts=tuple(h.lower() for h in r.strings(data, "hosts", "hosts")),
        start_urls=r.strings(data, "start_urls", "start_urls"),
        urls=_url_patterns(r, r.get(data, "urls", "urls", dict)),
        listing_templates=tuple(listing),
        templates=tuple(templates),
        date_formats=formats,
        raw=data,
        drift=_drift(r, data),
        zone=zone,
        api=parse_api(r, data),
    )


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (a file in portal_crawler/profiles) or by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        text, source = _read_file(path), str(path)
    else:
        resource = resources.files(PROFILES_PACKAGE) / f"{name_or_path}.toml"
        if not resource.is_file():
            raise ProfileError(
                f"{name_or_path}: no such profile (looked for {name_or_path}.toml in {PROFILES_PACKAGE})"
            )
        text, source = resource.read_text(encoding="utf-8"), f"profiles/{name_or_path}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None
    return replace(parse_profile(data, source), ref=str(path.resolve()) if source == str(path) else name_or_path)


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{path}: not UTF-8 text (byte {exc.start}): save the profile as UTF-8") from None
