"""Faults the replica injects on request; all off by default.

``Replica.set_faults(**options)`` (or ``POST /_replica/control`` with
``{"faults": {...}}``) *replaces* the whole fault set: options not given are
off, and ``set_faults()`` clears everything. Per-URL counters restart.

Request faults take a ``pattern``, a regular expression searched in the
request target (path and query, exactly as requested; default: every
target) and, where it applies, ``times``: how many requests *of each
matching target* suffer it (default: all of them).

``error_first``  ``{"status": 503, "times": 2, "pattern": "t6294", "retry_after": 1}``:
                 the first ``times`` requests of each matching target get
                 ``status`` (default 503; ``retry_after`` adds ``Retry-After``).
``slow``         ``{"seconds": 5, "pattern": ..., "times": K}``: wait before answering.
``cut``          ``{"pattern": ..., "times": K}``: send the headers with the full
                 ``Content-Length``, then half the body, then close the connection.
``malformed``    ``{"pattern": ...}``: unclosed ``p``/``td``/``li`` tags and the
                 document cut before its footer (no ``</body></html>``).
``chunked``      ``{"pattern": ...}``: ``Transfer-Encoding: chunked``, no ``Content-Length``.

Article faults take a list of article IDs (``"t6294"``, ``"1728975600"``):

``no_date``          rendered without the date element.
``no_byline``        rendered without the byline element.
``non_utf8``         encoded in windows-1252, said so in ``Content-Type`` and
                     ``<meta charset>`` (characters outside it become ``&#NNNN;``).
``huge``             padded to about 5 MB.
``fallback_layout``  a third markup no template matches (``div.post h2``,
                     ``div.entry p``) with the real title, date and paragraphs.
``offsite_link``     "Other news" also links to ``http://example.invalid/...``
                     (``true`` instead of a list: every article).

``redirect_offsite``  ``true`` (or a URL): ``GET /go-away`` answers 302 to
                      ``http://example.invalid/moved`` (or that URL); otherwise 404.

In the app layout the request faults apply to the API (``/backend-portal/...``)
as to any target, ``no_date`` and ``no_byline`` to the detail JSON
(``publishTime`` / ``author`` null); the other article faults concern page
markup, which an app shell does not carry. Two faults are the app's own, and
count requests *all targets together* (the crawler retries such an answer
once, so "the next N" is what a test wants). Each takes ``N`` (the next N
API requests it applies to), ``true`` (all of them), or ``{"next": N,
"pattern": ...}`` (the next N among the targets the regex matches; no
``next``: all of them), e.g. ``{"pattern": "/articles/200003$"}`` for one article:

``api_not_json``  a listing or detail answer is ``200 text/html``
                  ``<html><body>Service temporarily unavailable</body></html>``.
``api_no_items``  a listing answer is JSON without ``data.content``:
                  ``{"code": 200, "message": "OK", "data": {"items": []}}``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

RULES = ("error_first", "slow", "cut", "malformed", "chunked")
APP_BUDGETS = ("api_not_json", "api_no_items")
ARTICLE_LISTS = ("no_date", "no_byline", "non_utf8", "huge", "fallback_layout", "offsite_link")
DEFAULT_REDIRECT = "http://example.invalid/moved"


@dataclass
class Rule:
    """A request fault: which targets, how many times each, with what values."""

    pattern: re.Pattern[str]
    times: int | None = None
    options: dict = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, name: str, spec: dict | bool) -> Rule:
        if spec is True:
            spec = {}
        if not isinstance(spec, dict):
            raise ValueError(f"fault {name!r} takes an object like {{'pattern': '...'}}")
        options = dict(spec)
        pattern = re.compile(str(options.pop("pattern", "")))
        times = options.pop("times", None)
        return cls(pattern, None if times is None else int(times), options)

    def fires(self, target: str) -> bool:
        """Whether this request suffers the fault (counts it against ``times``)."""
        if not self.pattern.search(target):
            return False
        count = self.seen.get(target, 0)
        self.seen[target] = count + 1
        return self.times is None or count < self.times


@dataclass
class Budget:
    """An app fault: the next ``left`` requests matching ``pattern``, all targets together (None: no end)."""

    pattern: re.Pattern[str]
    left: int | None = None

    @classmethod
    def parse(cls, name: str, spec: object) -> Budget:
        if spec is True:
            return cls(re.compile(""))
        if isinstance(spec, int) and not isinstance(spec, bool):
            return cls(re.compile(""), spec)
        if not isinstance(spec, dict) or set(spec) - {"next", "pattern"}:
            raise ValueError(f"fault {name!r} takes N, true or an object like {{'next': 2, 'pattern': '...'}}")
        left = spec.get("next")
        return cls(re.compile(str(spec.get("pattern", ""))), None if left is None else int(left))

    def fires(self, target: str) -> bool:
        """Whether this request suffers the fault (spends one of ``left``)."""
        if not self.pattern.search(target) or self.left == 0:
            return False
        if self.left is not None:
            self.left -= 1
        return True


@dataclass(frozen=True)
class Plan:
    """What happens to one request."""

    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    cut: bool = False
    malformed: bool = False
    chunked: bool = False


class Faults:
    """The current fault set, safe to consult from the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: dict[str, Rule] = {}
        self.articles: dict[str, set[str]] = {}
        self.every_article: set[str] = set()
        self.redirect: str | None = None
        self.budgets: dict[str, Budget] = {}

    def configure(self, **options: object) -> None:
        """Replace the whole fault set (see the module docstring)."""
        unknown = set(options) - set(RULES) - set(ARTICLE_LISTS) - set(APP_BUDGETS) - {"redirect_offsite"}
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        rules = {n: Rule.parse(n, s) for n, s in options.items() if n in RULES and s}  # type: ignore[arg-type]
        lists: dict[str, Any] = {n: options[n] for n in ARTICLE_LISTS if options.get(n)}
        budgets = {n: Budget.parse(n, s) for n, s in options.items() if n in APP_BUDGETS and s}
        redirect = options.get("redirect_offsite")
        with self._lock:
            self.rules, self.budgets = rules, budgets
            self.every_article = {n for n, ids in lists.items() if ids is True}
            self.articles = {n: {str(i) for i in ids} for n, ids in lists.items() if ids is not True}
            self.redirect = (redirect if isinstance(redirect, str) else DEFAULT_REDIRECT) if redirect else None

    def plan(self, target: str) -> Plan:
        """Consult (and count) every request fault for one request."""
        with self._lock:
            fired = {name: rule for name, rule in self.rules.items() if rule.fires(target)}
        error = fired.get("error_first")
        slow = fired.get("slow")
        return Plan(
            status=int(error.options.get("status", 503)) if error else None,
            retry_after=error.options.get("retry_after") if error else None,
            delay=float(slow.options.get("seconds", 1.0)) if slow else 0.0,
            cut="cut" in fired,
            malformed="malformed" in fired,
            chunked="chunked" in fired,
        )

    def spend(self, name: str, target: str) -> bool:
        """Whether app fault ``name`` answers this API request (counts it)."""
        with self._lock:
            budget = self.budgets.get(name)
            return budget is not None and budget.fires(target)

    def has(self, name: str, article_id: str) -> bool:
        """Whether article fault ``name`` applies to this article."""
        return name in self.every_article or article_id in self.articles.get(name, ())
