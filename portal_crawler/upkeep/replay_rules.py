"""pywb fuzzy-match rules for the portal's JSON API, so replayed app pages find their archived answers.

A front end often adds a cache-busting parameter to its API calls
(`&_=1733011200000`, `&t=...`). pywb's own rules drop some of those, but its
index keys sort the query, so a `_` parameter lands first and its rule then
leaves a key that matches nothing: the replayed page gets a 404 and shows no
text. These rules match an API listing call by the parameters that choose the
answer (the profile's non-empty listing parameters and the page) and a detail
call by its path, whatever else the query holds, on every API host the archive
holds answers from. They are added in front of pywb's own rules (which are
kept whole) in `replay/rules.yaml`, written at every start.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portal_crawler.core.paths import ArchivePaths
from portal_crawler.extraction.api_profile import API_ID, PAGE, ApiSource
from portal_crawler.extraction.profile import ProfileError, load_profile

WHOLE_PARAMETER = "~urlkey:.*[?&]{0}(?:&|$)"  # pywb regex filter (anchored): one whole `name=value`


def api_origins(catalogue: Path, source: ApiSource) -> list[str]:
    """scheme://host of every API answer in the catalogue (the API may have been moved to a mirror)."""
    if not catalogue.exists():
        return []
    head = source.detail.path.split(API_ID, 1)[0]
    with sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True) as conn:
        urls = conn.execute(
            "SELECT DISTINCT substr(url, 1, instr(url, ?) - 1) FROM captures WHERE instr(url, ?) > 0", (head, head)
        ).fetchall()
    return sorted({u for (u,) in urls if urlsplit(u).scheme in ("http", "https")})


def _profile_source(catalogue: Path) -> ApiSource | None:
    """The API source of the profile the archive's last run used (the shipped one when unknown)."""
    name = "mps"
    if catalogue.exists():
        with sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT profile FROM runs WHERE profile IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
        name = row[0] if row else name
    try:
        return load_profile(name).api
    except ProfileError:  # a profile file since moved: the shipped profile's API paths
        return load_profile("mps").api


def api_rules(source: ApiSource, origins: list[str]) -> list[dict[str, Any]]:
    """The two rules (listing, detail) for these API hosts; none without hosts."""
    if not origins:
        return []
    from surt import surt  # pywb's own dependency (the [replay] extra), as the index keys are made

    listing = source.listing
    chosen = sorted({k.lower() for k, v in listing.params if v})  # SURT keys are lower case and sorted
    listing_rule = {
        "url_prefix": [surt(f"{o}{listing.path}?").rstrip("?") + "?" for o in origins],
        "fuzzy_lookup": {"match": {"regex": "", "args": chosen}, "filter": [WHOLE_PARAMETER]},
    }
    head = source.detail.path.split(API_ID, 1)[0]
    detail_rule = {
        "url_prefix": [surt(f"{o}{head}") for o in origins],
        "fuzzy_lookup": {"match": "()", "type": "exact"},  # the path alone: any query is dropped
    }
    return [listing_rule, detail_rule] if PAGE in dict(listing.params).values() else [detail_rule]


def write_rules(archive_dir: Path, target: Path) -> Path | None:
    """`replay/rules.yaml`: our API rules before pywb's own; None when the archive holds no API answers."""
    catalogue = ArchivePaths(archive_dir).catalogue
    source = _profile_source(catalogue)
    rules = api_rules(source, api_origins(catalogue, source)) if source else []
    if not rules:
        return None
    import yaml  # pywb's own dependency (the [replay] extra)

    default = yaml.safe_load((resources.files("pywb") / "rules.yaml").read_text(encoding="utf-8"))
    default["rules"] = [*rules, *default["rules"]]
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text("# Written by `portal-crawler replay` at every start.\n" + yaml.safe_dump(default))
    temporary.replace(target)
    return target
