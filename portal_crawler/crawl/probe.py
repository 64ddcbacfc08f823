"""The probe: what the profile makes of a few live pages, fetched politely, archived nowhere.

`probe(urls, profile)` is the first-day tool for pointing the crawler at the
live portal, and what the drift alarm tells the operator to run. It fetches
each page (and the first `articles` entries of each listing) one at a time
as the crawl would (`fetcher.py`), reads it with the same code the crawl and
`reindex` use (`extraction.pages`, `extraction.extract`), and reports per page
which template matched, each field with its source, the problems, and a
verdict:

``ok``          a template matched and every field came from its selector, with no problem;
``drift``       otherwise: no template, a field from a fallback or nowhere, a
                listing without entries or dates, links no article pattern
                knows, a URL that matches no pattern of the profile;
``blocked``     a bot wall or an empty app shell (`extraction.walls.wall_kind`);
``failed``      not fetched (connection refused, DNS, timeout) or not a page (an HTTP error, not text);
``disallowed``  not requested: robots.txt, the profile's `urls.deny`, a redirect off its hosts.

The exit code follows the crawl's rule, the most severe wins: 4 when any page
is a wall, then 3 for drift, then 1 for a page not fetched, else 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from portal_crawler.core.errors import EXIT_BLOCKED, EXIT_DRIFT, EXIT_ERRORS, EXIT_OK
from portal_crawler.crawl.fetcher import Disallowed, Fetched, PoliteFetcher, Politeness, Unfetchable
from portal_crawler.crawl.probe_api import read_api
from portal_crawler.crawl.probe_reports import FieldReport, ListingReport, PageReport
from portal_crawler.extraction.extract import Extraction, extract, select
from portal_crawler.extraction.pages import listing_dates, listing_entries, listing_template, text_response
from portal_crawler.extraction.profile import Profile
from portal_crawler.extraction.urls import UrlInfo, UrlRules
from portal_crawler.extraction.walls import HEAD, wall_kind

UNREAD = ("failed", "disallowed")
WALLS = {
    "shell": "an empty app shell (scripts, no article text): the crawl archives it and never catalogues it",
    "challenge": "a bot-wall challenge ({kind}), not the portal's page: the portal is refusing this crawler",
}
OTHER_URL = "the URL matches no article or listing pattern of the profile (urls.article, urls.listing)"


class Prober:
    """One probe: the profile's rules, a polite fetcher, and the URLs already seen (each is fetched once)."""

    def __init__(self, profile: Profile, rules: UrlRules, fetcher: PoliteFetcher, articles: int) -> None:
        self.profile, self.rules, self.fetcher, self.articles = profile, rules, fetcher, articles
        self.seen: set[str] = set()

    def visit(self, url: str, found_on: str | None = None, listing_date: str | None = None) -> list[PageReport]:
        """The page's report, then those of the first `articles` entries when it is a listing."""
        if url in self.seen:
            return []
        self.seen.add(url)
        info = self.rules.classify(url)
        report = PageReport(url=url, kind=info.kind, found_on=found_on)
        fetched = self._fetch(url, report)
        if fetched is None:
            return [report]
        if info.kind in ("api_listing", "api_article") and 200 <= fetched.status < 300:
            report.status = fetched.status
            items = read_api(fetched.body, report, self.profile, self.rules)
            return [report] + [r for e in items[: self.articles] for r in self.visit(e.detail_url, found_on=url)]
        response = self._answer(fetched, report)
        if response is None:
            return [report]
        if self._looks_like(info, response) == "article":
            read_article(response, report, self.profile, listing_date)
            return [report]
        entries, dates = read_listing(response, report, self.profile, self.rules)
        reports = [report]
        for entry in entries[: self.articles]:
            if report.listing is not None:
                report.listing.articles.append(entry.url)
            reports += self.visit(entry.url, found_on=url, listing_date=dates.get(entry.article_id or ""))
        return reports

    def _fetch(self, url: str, report: PageReport) -> Fetched | None:
        if not self.rules.allowed(url):
            report.verdict = "disallowed"
            report.problems.append("excluded by the profile's urls.deny (the crawl never requests it)")
            return None
        api = self.profile.api
        headers = dict(api.headers) if api and self.rules.classify(url).kind.startswith("api_") else {}
        try:
            return self.fetcher.fetch(url, headers)
        except Disallowed as refusal:
            report.verdict = "disallowed"
            report.problems.append(str(refusal))
        except Unfetchable as failure:
            report.problems.append(f"cannot fetch: {failure}")
        return None

    def _answer(self, fetched: Fetched, report: PageReport) -> TextResponse | None:
        """The page to read, or None (with the verdict set) for a wall, an HTTP error, a body that is not text."""
        report.status = fetched.status
        if fetched.redirected_from is not None:
            report.redirected_to = fetched.url
        response = text_response(fetched.url, fetched.status, fetched.headers, fetched.body)
        report.wall = wall_kind(fetched.status, fetched.headers, response.text[:HEAD]) if response else None
        if report.wall is not None:
            report.verdict = "blocked"
            report.problems.append(WALLS.get(report.wall, WALLS["challenge"]).format(kind=report.wall))
        elif not 200 <= fetched.status < 300:
            report.problems.append(f"answered HTTP {fetched.status}")
        elif response is None:
            report.problems.append("not a text page: nothing to read")
        else:
            return response
        return None

    def _looks_like(self, info: UrlInfo, response: TextResponse) -> str:
        """How to read the page: as its URL says; an "other" URL as an article when an article template matches."""
        if info.kind in ("listing", "article"):
            return info.kind
        root = response.selector.root
        return "article" if any(select(root, t.signature) for t in self.profile.templates) else "listing"


def read_listing(
    response: TextResponse, report: PageReport, profile: Profile, rules: UrlRules
) -> tuple[list[UrlInfo], dict[str, str]]:
    """Fill the report for a listing page; its entries (in order, one per article) and their dates."""
    template = listing_template(profile, response)
    entries = list({info.article_id: info for info, _ in listing_entries(response, template, rules)}.values())
    dates = listing_dates(response, template, rules)
    unknown = []
    if template is not None:
        for href in response.css(template.item).css(template.link).getall():
            url = response.urljoin(href.strip())
            if rules.in_scope(url) and rules.classify(url).kind != "article":
                unknown.append(url)
    dated = sum(1 for info in entries if info.article_id in dates)
    report.read_as, report.template = "listing", template.name if template else None
    report.listing = ListingReport(entries=len(entries), dates=dated, unknown_links=unknown)
    _listing_problems(report, report.listing, template is not None and template.date is not None)
    return entries, dates


def _listing_problems(report: PageReport, listing: ListingReport, prints_dates: bool) -> None:
    if report.kind == "other":
        report.problems.append(OTHER_URL)
    if report.template is None:
        report.problems.append("no listing template matched (the crawl reads every article link on the page)")
    if listing.entries == 0:
        report.problems.append("no article entries found")
    elif prints_dates and listing.dates < listing.entries:
        report.problems.append(
            f"{listing.entries - listing.dates} of {listing.entries} entries have no date the profile reads"
            " (listing_templates.date)"
        )
    if listing.unknown_links:
        report.problems.append(
            f"{len(listing.unknown_links)} entry links match no article pattern (urls.article),"
            f" e.g. {listing.unknown_links[0]}"
        )
    report.verdict = "drift" if report.problems else "ok"


def read_article(response: TextResponse, report: PageReport, profile: Profile, listing_date: str | None) -> None:
    """Fill the report for an article page: template, each field with its source, problems, verdict."""
    extraction = extract(response.selector, response.url, profile, listing_date=listing_date)
    report.read_as = "article"
    report.template = None if extraction.template == "fallback" else extraction.template
    report.revision = extraction.profile_revision
    report.fields = field_reports(extraction)
    if report.kind == "other":
        report.problems.append(OTHER_URL)
    report.problems += extraction.problems
    if report.template is None:
        report.problems.insert(0, "no article template matched: every field is the generic fallback's")
    report.verdict = "ok" if extraction.quality == "ok" and not report.problems else "drift"


def field_reports(extraction: Extraction) -> dict[str, FieldReport]:
    sources = extraction.field_sources

    def one(name: str, value: str | None) -> FieldReport:
        return FieldReport(one_line(value), sources.get(name, "none"))

    def many(name: str, values: list[str]) -> FieldReport:
        return FieldReport(one_line(values[0]) if values else None, sources.get(name, "none"), len(values))

    return {
        "title": one("title", extraction.title),
        "published": one("published", extraction.published),
        "author": one("author", extraction.author),
        "paragraphs": many("paragraphs", extraction.paragraphs),
        "captions": many("captions", extraction.captions),
        "images": many("images", extraction.images),
    }


def one_line(text: str | None) -> str | None:
    return " ".join(text.split()) if text else None


def probe(
    urls: Sequence[str], profile: Profile, *, articles: int = 3, politeness: Politeness | None = None
) -> list[PageReport]:
    """Fetch and read each URL (and the first `articles` entries of each listing); one report per page.

    The given URLs' hosts join the profile's (as a crawl's start URLs do), so a replica on loopback can be probed.
    """
    rules = UrlRules(profile, tuple(urlsplit(url).netloc.lower() for url in urls))
    fetcher = PoliteFetcher(politeness or Politeness.from_settings(), rules.in_scope)
    prober = Prober(profile, rules, fetcher, articles)
    return [report for url in urls for report in prober.visit(url)]


def exit_code(reports: Sequence[PageReport]) -> int:
    """The most severe outcome wins: a wall (4), then drift (3), then a page not fetched (1)."""
    verdicts = {report.verdict for report in reports}
    if "blocked" in verdicts:
        return EXIT_BLOCKED
    if "drift" in verdicts:
        return EXIT_DRIFT
    return EXIT_ERRORS if verdicts & set(UNREAD) else EXIT_OK


def problem_lines(reports: Sequence[PageReport], profile: Profile) -> list[str]:
    """The lines for stderr: one per page not fetched, then one for a wall or drift (none when all is ok)."""
    lines = [f"{r.url}: {r.problems[0]}" for r in reports if r.verdict in UNREAD and r.problems]
    walls = [r for r in reports if r.verdict == "blocked"]
    drifted = [r for r in reports if r.verdict == "drift"]
    if walls:
        kinds = sorted({r.wall or "challenge" for r in walls})
        what = "empty app shells" if kinds == ["shell"] else "challenge pages"
        lines.append(
            f"blocked: {len(walls)} of {len(reports)} pages were {what} ({', '.join(kinds)}); the portal is"
            " refusing this crawler: wait, or contact the portal"
        )
    elif drifted:
        lines.append(
            f"layout drift on {len(drifted)} of {len(reports)} pages: fix the selectors in {profile.source},"
            " probe again, then run 'portal-crawler reindex' to re-extract the archive"
        )
    return lines
