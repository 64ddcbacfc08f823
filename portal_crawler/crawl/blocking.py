"""Noticing that the portal refuses the crawler: bot-wall challenges and empty app shells in a row.

Every response the spider sees is checked with `extraction.walls.wall_kind`
(cheap substring checks); an HTML article page the archive's writer reads is
checked there, by the same function, and counted here when its answer comes
back (`count`). Challenge and shell pages are archived as they came
(the writer never catalogues them as articles); after `streak` of them in a
row the run stops politely, says so in one line, and exits 4. No attempt is
made to get past a challenge. A page that is the profile's own app shell (its
`api.shell`) is no wall: the site's front end, whose text the crawl reads from
the JSON API.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse

from portal_crawler.crawl.capture import header_list
from portal_crawler.extraction.selectors import select
from portal_crawler.extraction.walls import wall_kind


class BlockWatch:
    """Counts challenge pages in a row; the stop line once there are `streak` of them."""

    def __init__(self, streak: int, app_shell: str | None = None) -> None:
        self.streak, self.app_shell = streak, app_shell
        self.in_a_row = 0
        self.kinds: list[str] = []
        self.walled = False  # whether the last response seen was a wall

    def see(self, response: Response) -> str | None:
        """One response: None while the portal answers, the one-line reason when the run must stop."""
        text = response.text if isinstance(response, TextResponse) else ""  # decoded once, shared with the callback
        kind = wall_kind(response.status, header_list(response.headers), text) if text else None
        if kind == "shell" and self.app_shell and isinstance(response, TextResponse):
            kind = None if select(response.selector.root, self.app_shell) else kind
        return self.count(kind, response.url)

    def count(self, kind: str | None, url: str) -> str | None:
        """One verdict (a wall's kind, or None) on the answer from `url`: what `see` gives.

        An article page the writer reads comes here with the kind the writer found
        (its `Requisites` answer), when that answer arrives.
        """
        self.walled = kind is not None
        if kind is None:
            self.in_a_row, self.kinds = 0, []
            return None
        self.in_a_row += 1
        self.kinds.append(kind)
        if self.in_a_row < self.streak:
            return None
        host = urlsplit(url).netloc
        what = "challenge pages" if any(k != "shell" for k in self.kinds) else "empty app shells"
        return f"blocked: {self.in_a_row} {what} in a row from {host}; the portal is refusing this crawler"
