"""Golden pages: saved portal pages and the extraction expected from each (fundus's parser test data).

    python scripts/golden.py capture          # (re)save every page from replicas on 127.0.0.1, port 0
    python scripts/golden.py expect           # write each page's expected extraction (<name>.json)
    python scripts/golden.py expect --check   # exit 1 with a unified diff when extraction has changed

A page lives in ``tests/golden/<kind>/<template>/<name>.html``, where kind is ``article`` or
``listing`` (the profile's article and listing templates share names) and template is the one
expected to read the page (``fallback`` for a page no template matches). Beside it,
``<name>.meta.json`` holds the URL the page stands for on the portal (the replica's path on the
profile's host, so images and links resolve as they would live), the status, the Content-Type
header and where the bytes came from; ``<name>.json`` holds the expected extraction, written by
this script and never by hand: a change in extraction is reviewed as ``git diff tests/golden``.
Pages named ``drift-<variant>-...`` are served by a replica in one of its drift variants
(``portal_crawler.replica.drift``: classes renamed, body wrapped, date in ``<time>``, byline in a
``<span>``, no banner, a redesign, an app shell, Incapsula and Cloudflare challenges); their
``.meta.json`` also holds the response headers as served (``walls.wall_kind`` reads them) and their
expectation which source gave each field (``field_sources``) and the problems it found.
Where another checkout is pip-installed in editable mode, run ``python -m scripts.golden ...``
from this checkout's root instead, so that this checkout's code does the extracting.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.http import TextResponse

import portal_crawler
from portal_crawler.extraction.extract import extract
from portal_crawler.extraction.pages import listing_entries, listing_template, text_response
from portal_crawler.extraction.profile import Profile, load_profile
from portal_crawler.extraction.urls import UrlRules
from portal_crawler.replica import Article, Replica, ReplicaConfig
from portal_crawler.replica.articles import load_seeds
from portal_crawler.replica.textgen import DESKS

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
KINDS = ("article", "listing")
PROFILE = "mps"
GENERATED = 200  # generated articles besides the seeds: enough for every kind of page below
SEED = 1
HOSTS = {"legacy": "http://en.bocongan.gov.vn", "current": "https://en.mps.gov.vn"}  # as the seeds' URLs are
SEED_FILES = [record["seed"] for record in load_seeds()]  # the five live pages, in seeds.json order
ARTICLE_FAULTS = ("no_date", "no_byline", "non_utf8", "fallback_layout")
ARTICLE_FIELDS = (
    "template",
    "quality",
    "title",
    "published",
    "author",
    "paragraphs",
    "captions",
    "images",
    "problems",
    "field_sources",
)
Pick = Callable[[Replica], tuple[str, Article | None]]


@dataclass(frozen=True)
class Shot:
    """One page to capture: on which replica layout, what to request, with which faults, under which name."""

    kind: str
    template: str
    name: str
    layout: str
    pick: Pick
    faults: tuple[str, ...] = ()
    seed: str | None = None  # the seed file, for the check against tests/fixtures/expected.json
    drift: str | None = None  # the replica's drift variant while this page is fetched
    wall: str = "incapsula"  # the challenge kind, for drift "challenge"
    status: int = 200  # the status the page is served with

    @property
    def stem(self) -> Path:
        return GOLDEN / self.kind / self.template / self.name


def seed(number: int) -> Pick:
    """Seed article ``number`` (key -1 - number in the replica's store)."""

    def pick(replica: Replica) -> tuple[str, Article | None]:
        article = next(a for a in replica.articles() if a.key == -1 - number)
        return article.url_path, article

    return pick


def generated(description: str, test: Callable[[Article], bool]) -> Pick:
    """The newest generated article that passes ``test``."""

    def pick(replica: Replica) -> tuple[str, Article | None]:
        for article in replica.articles():
            if article.key >= 0 and test(article):
                return article.url_path, article
        raise SystemExit(f"golden: no generated article on the replica is {description}; raise GENERATED")

    return pick


def listing(query: str) -> Pick:
    def pick(replica: Replica) -> tuple[str, Article | None]:
        return replica.listing_url.removeprefix(replica.base_url) + query, None

    return pick


def photos(article: Article) -> list[str | None]:
    return [block.text for block in article.blocks if block.kind == "img"]


def bare_name(byline: str | None) -> bool:
    """A reporter's name with no "by" before it (not a desk, not absent)."""
    return bool(byline) and byline not in DESKS and not (byline or "").lower().startswith("by ")


CAPTIONED = generated("with two or more photos, all captioned", lambda a: len(photos(a)) >= 2 and all(photos(a)))
UNCAPTIONED = generated("with a photo without caption", lambda a: None in photos(a))
NO_BYLINE = generated("without a byline", lambda a: a.byline is None)
DESK = generated("signed by a desk", lambda a: a.byline in DESKS)
BARE_NAME = generated("signed by a bare name", lambda a: bare_name(a.byline))
VIEWS = generated("showing a view counter", lambda a: a.view_count is not None)


def article_shots(layout: str) -> Iterator[Shot]:
    for number, seed_file in enumerate(SEED_FILES):
        yield Shot("article", layout, f"seed-{number:03d}", layout, seed(number), seed=seed_file)
    yield Shot("article", layout, "generated-captions", layout, CAPTIONED)
    yield Shot("article", layout, "generated-uncaptioned-photo", layout, UNCAPTIONED)
    yield Shot("article", layout, "generated-no-byline", layout, NO_BYLINE)
    yield Shot("article", layout, "generated-desk-byline", layout, DESK)
    yield Shot("article", layout, "generated-bare-name-byline", layout, BARE_NAME)


def listing_shots(layout: str) -> Iterator[Shot]:
    yield Shot("listing", layout, "page-1", layout, listing(""))
    yield Shot("listing", layout, "page-2", layout, listing("?Page=2"))
    yield Shot("listing", layout, "past-last-page", layout, listing("?Page=999"))


KEEPS_TEMPLATE = ("wrapped", "time", "byline", "nobanner")  # drift variants the layout's template still reads
ARTICLE_DRIFTS = ("renamed", "neutral", "wrapped", "time", "byline", "nobanner", "redesign", "shell")
LISTING_DRIFTS = ("renamed", "neutral", "nobanner", "redesign")  # the variants that change listing pages
DRIFT_SEED = {"legacy": 0, "current": 2}  # t6294, and 1728975600 (the 10-digit ID of the 2024 seed)
WALLS = {"incapsula": 200, "cloudflare": 403}


def drift_shots(layout: str) -> Iterator[Shot]:
    """Each drift variant's article page (a seed) and listing page 1, in ``layout``."""
    number = DRIFT_SEED[layout]
    for variant in ARTICLE_DRIFTS:
        template = layout if variant in KEEPS_TEMPLATE else "fallback"
        yield Shot(
            "article", template, f"drift-{variant}-{layout}-seed-{number:03d}", layout, seed(number), drift=variant
        )
    yield Shot("article", layout, f"drift-byline-{layout}-no-byline", layout, NO_BYLINE, drift="byline")
    yield Shot("article", layout, f"drift-time-{layout}-no-byline", layout, NO_BYLINE, drift="time")
    for variant in LISTING_DRIFTS:
        template = layout if variant in KEEPS_TEMPLATE else "fallback"
        yield Shot("listing", template, f"drift-{variant}-{layout}-page-1", layout, listing(""), drift=variant)
    for kind, status in WALLS.items():
        name = f"drift-challenge-{kind}-{layout}-seed-{number:03d}"
        yield Shot("article", "fallback", name, layout, seed(number), drift="challenge", wall=kind, status=status)


SHOTS: tuple[Shot, ...] = (
    *article_shots("legacy"),
    Shot("article", "legacy", "generated-view-counter", "legacy", VIEWS),
    Shot("article", "legacy", "seed-001-windows-1252", "legacy", seed(1), ("non_utf8",), SEED_FILES[1]),
    Shot("article", "legacy", "seed-003-no-date", "legacy", seed(3), ("no_date",), SEED_FILES[3]),
    Shot("article", "legacy", "seed-000-malformed", "legacy", seed(0), ("malformed",), SEED_FILES[0]),
    Shot("article", "fallback", "seed-000-unknown-layout", "legacy", seed(0), ("fallback_layout",), SEED_FILES[0]),
    *article_shots("current"),
    Shot("article", "current", "generated-desk-byline-windows-1252", "current", DESK, ("non_utf8",)),
    Shot("article", "current", "seed-004-no-byline", "current", seed(4), ("no_byline",), SEED_FILES[4]),
    Shot("article", "current", "seed-002-malformed", "current", seed(2), ("malformed",), SEED_FILES[2]),
    *listing_shots("legacy"),
    Shot("listing", "legacy", "pager-trap", "legacy", listing("?Page=2&Page=3")),
    Shot("listing", "legacy", "malformed-page-1", "legacy", listing(""), ("malformed",)),
    *listing_shots("current"),
    *drift_shots("legacy"),
    *drift_shots("current"),
)


# -- capture -------------------------------------------------------------------


@dataclass
class Served:
    """One answer of the replica as it came off the wire (no Accept-Encoding asked, so no gzip)."""

    status: int
    content_type: str
    body: bytes = field(repr=False)
    headers: list[tuple[str, str]] = field(default_factory=list, repr=False)


def fetch(url: str) -> Served:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return Served(answer.status, answer.headers.get("Content-Type", ""), answer.read(), answer.getheaders())
    except urllib.error.HTTPError as error:
        return Served(error.code, error.headers.get("Content-Type", ""), error.read(), list(error.headers.items()))


def fault_options(shot: Shot, target: str, article: Article | None) -> dict[str, Any]:
    """The replica's fault set for one shot: article faults name the article, request faults its target."""
    options: dict[str, Any] = {}
    for name in shot.faults:
        if name in ARTICLE_FAULTS and article is not None:
            options[name] = [article.id]
        else:
            options[name] = {"pattern": "^" + re.escape(target) + "$"}
    return options


def capture_shot(shot: Shot, replica: Replica) -> None:
    target, article = shot.pick(replica)
    faults = fault_options(shot, target, article)
    replica.set_faults(**faults)
    if shot.drift:
        replica.set_drift(shot.drift, challenge_kind=shot.wall)
    served = fetch(replica.base_url + target)
    replica.set_faults()
    replica.set_drift()
    if served.status != shot.status:
        raise SystemExit(f"golden: {shot.kind}/{shot.template}/{shot.name}: {target} answered {served.status}")
    source: dict[str, Any] = {"replica": {"layout": shot.layout, "seed": SEED, "articles": GENERATED}, "target": target}
    if faults:
        source["faults"] = faults
    if shot.drift:
        source["drift"] = {"variant": shot.drift} | ({"challenge_kind": shot.wall} if shot.drift == "challenge" else {})
    meta = {"url": HOSTS[shot.layout] + target, "status": served.status, "content_type": served.content_type}
    meta |= (
        {"headers": [[name, value] for name, value in served.headers if name.lower() != "date"]} if shot.drift else {}
    )
    meta |= {"sha256": hashlib.sha256(served.body).hexdigest(), "source": source}  # the test checks the sha256
    meta |= {"seed": shot.seed} if shot.seed else {}
    shot.stem.parent.mkdir(parents=True, exist_ok=True)
    shot.stem.with_suffix(".html").write_bytes(served.body)
    shot.stem.with_suffix(".meta.json").write_text(as_json(meta), encoding="utf-8")


def capture() -> int:
    """Save every page afresh; expectations stay for ``expect --check`` to compare, a dropped shot's files go."""
    for layout in HOSTS:
        with Replica(ReplicaConfig(articles=GENERATED, layout=layout, seed=SEED, host="127.0.0.1", port=0)) as replica:
            for shot in (s for s in SHOTS if s.layout == layout):
                capture_shot(shot, replica)
    kept = {shot.stem for shot in SHOTS}
    for saved in (f for kind in KINDS for f in (GOLDEN / kind).glob("*/*.*")):
        if saved.parent / saved.name.split(".")[0] not in kept:
            saved.unlink()
    print(f"golden: saved {len(SHOTS)} pages under {GOLDEN.relative_to(ROOT)}; now run: golden.py expect --check")
    return 0


# -- expect --------------------------------------------------------------------


def saved_pages() -> list[Path]:
    """Every saved page (``.html``), in a stable order."""
    return sorted(path for kind in KINDS for path in (GOLDEN / kind).glob("*/*.html"))


def page_response(page: Path) -> TextResponse:
    """The saved bytes as Scrapy hands them to the spider, decoded by their Content-Type."""
    meta = json.loads(page.with_suffix("").with_suffix(".meta.json").read_text(encoding="utf-8"))
    response = text_response(meta["url"], meta["status"], [("Content-Type", meta["content_type"])], page.read_bytes())
    if response is None:
        raise SystemExit(f"golden: {page}: not a text page ({meta['content_type']})")
    return response


def article_expectation(response: TextResponse, profile: Profile) -> dict[str, Any]:
    extraction = extract(response.selector, response.url, profile)
    return {name: getattr(extraction, name) for name in ARTICLE_FIELDS}


def listing_expectation(response: TextResponse, profile: Profile) -> dict[str, Any]:
    """The articles a listing page links to (as the crawl reads them) and the listing pages its pager leads to."""
    template, rules = listing_template(profile, response), UrlRules(profile)
    entries = listing_entries(response, template, rules)
    hrefs = response.css(template.pager_links).getall() if template else []
    pager = {rules.classify(response.urljoin(href.strip())) for href in hrefs}
    return {
        "template": template.name if template else None,
        "entries": [{"url": info.url, "id": info.article_id, "summary": summary} for info, summary in entries],
        "pager": sorted(info.url for info in pager if info.kind == "listing"),
    }


def expectation(page: Path, profile: Profile) -> dict[str, Any]:
    kind = page.parent.parent.name
    read = article_expectation if kind == "article" else listing_expectation
    return read(page_response(page), profile)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def expect(check: bool) -> int:
    """Write each page's expectation, or (``check``) print how extraction now differs from it."""
    pages, profile, changed = saved_pages(), load_profile(PROFILE), 0
    if not pages:
        print(f"golden: no saved pages under {GOLDEN}; run: golden.py capture", file=sys.stderr)
        return 2
    for page in pages:
        path = page.with_suffix(".json")
        new = as_json(expectation(page, profile))
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if new == old:
            continue
        changed += 1
        if check:
            name = path.relative_to(GOLDEN.parent.parent).as_posix()
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), name, "extract()"))
        else:
            path.write_text(new, encoding="utf-8")
    verb = "differ from extraction" if check else "written"
    print(f"golden: {changed} of {len(pages)} expectations {verb}", file=sys.stderr)  # stdout: the diff alone
    return 1 if check and changed else 0


def main(argv: list[str] | None = None) -> int:
    if Path(portal_crawler.__file__).resolve().parent != ROOT / "portal_crawler":
        # An editable install of another checkout would extract with other code than this checkout's.
        print(
            f"golden: portal_crawler comes from {portal_crawler.__file__}, not {ROOT}; run: python -m scripts.golden",
            file=sys.stderr,
        )
        return 2
    cli = argparse.ArgumentParser(prog="golden.py", description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = cli.add_subparsers(dest="command", required=True)
    commands.add_parser("capture", help="(re)save the golden pages from replicas on 127.0.0.1")
    expecting = commands.add_parser("expect", help="write the expected extraction of each saved page")
    expecting.add_argument("--check", action="store_true", help="write nothing; exit 1 with a diff if any differs")
    args = cli.parse_args(argv)
    return capture() if args.command == "capture" else expect(args.check)


if __name__ == "__main__":
    sys.exit(main())
