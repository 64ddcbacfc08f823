"""Pages that are not the portal's: bot-wall challenges and an empty app shell.

The live portal sits behind Imperva Incapsula (PORTAL.md), so a crawler may
be answered with an interstitial instead of the page, and the 2025 site may
send an HTML shell that a script fills. The replica reproduces both, so the
crawler can be tested to archive them and never catalogue them:

``incapsula``  default status 200 (the status says nothing; only the body
               and cookies do): ``<iframe id="main-iframe"
               src="/_Incapsula_Resource?...">Request unsuccessful. Incapsula
               incident ID: N-M</iframe>``, a ``/_Incapsula_Resource?SWJIYLWA=``
               script, ``<meta name="ROBOTS" content="NOINDEX, NOFOLLOW">``;
               ``Set-Cookie`` ``visid_incap_2461867=…``,
               ``incap_ses_1185_2461867=…``, ``nlbi_2461867=…``;
               headers ``X-CDN: Imperva``, ``X-Iinfo``.
``cloudflare`` default status 403: ``<title>Just a moment...</title>``,
               ``window._cf_chl_opt``, ``/cdn-cgi/challenge-platform/``,
               ``<div id="cf-chl-widget-…">``, "Enable JavaScript and cookies
               to continue"; headers ``Server: cloudflare``,
               ``cf-mitigated: challenge``, ``CF-RAY``; ``Set-Cookie: __cf_bm=…``.

Cookies carry no ``Domain`` (the replica is on loopback) and no ``Secure``
(plain HTTP). Values are deterministic per challenge number.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from email.utils import formatdate

from portal_crawler.replica.markup import esc
from portal_crawler.replica.responses import Response

KINDS = ("incapsula", "cloudflare")
DEFAULT_STATUS = {"incapsula": 200, "cloudflare": 403}
SITE_ID = "2461867"
NO_STORE = ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate")


def token(*parts: object, size: int = 24) -> str:
    """A deterministic cookie value or ID that looks random."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return base64.b64encode(digest).decode("ascii")[:size]


def incident_id(number: int) -> str:
    """``1185000510123456789-123456789012345678``: Imperva's two-part incident number."""
    digits = int(hashlib.sha256(f"incident:{number}".encode()).hexdigest(), 16)
    return f"1185{digits % 10**15:015d}-{digits // 10**15 % 10**18:018d}"


def incapsula(number: int, status: int) -> Response:
    incident = incident_id(number)
    resource = f"/_Incapsula_Resource?CWUDNSAI=24&amp;xinfo=5-{1000 + number}-0&amp;incident_id={incident}&amp;edet=12"
    body = (
        '<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW">'
        '<meta name="format-detection" content="telephone=no"><meta name="viewport" content="initial-scale=1.0">'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">'
        f'<script type="text/javascript" src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e3a6e6fffd425f7e032f3">'
        '</script></head><body style="margin:0px;height:100%">'
        f'<iframe id="main-iframe" src="{resource}" frameborder=0 width="100%" height="100%" marginheight="0px" '
        f'marginwidth="0px">Request unsuccessful. Incapsula incident ID: {incident}</iframe></body></html>'
    )
    expires = formatdate(1_900_000_000, usegmt=True)
    headers = [
        NO_STORE,
        ("X-CDN", "Imperva"),
        ("X-Iinfo", f"5-{1000 + number}-0 0NNN RT(1700000000000 12) q(0 -1 -1 -1) r(0 -1)"),
        ("Set-Cookie", f"visid_incap_{SITE_ID}={token('visid', number, size=64)}; expires={expires}; HttpOnly; path=/"),
        ("Set-Cookie", f"nlbi_{SITE_ID}={token('nlbi', number, size=32)}; HttpOnly; path=/"),
        ("Set-Cookie", f"incap_ses_1185_{SITE_ID}={token('ses', number, size=56)}; path=/"),
    ]
    return Response(status, body.encode("utf-8"), "text/html", headers, compressible=False)


def cloudflare(number: int, status: int, host: str = "en.mps.gov.vn") -> Response:
    ray = token("ray", number, size=16).encode().hex()[:16]
    widget = token("widget", number, size=5).lower().replace("+", "a").replace("/", "b")
    body = (
        '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        '<meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="390">'
        '</head><body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">'
        f'<h1 class="zone-name-title h1">{esc(host)}</h1><div id="cf-chl-widget-{widget}" class="cf-chl-widget">'
        '</div><noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to '
        "continue</span></div></noscript></div></div><script>(function(){window._cf_chl_opt={cvId: '3',"
        f"cZone: \"{esc(host)}\",cType: 'managed',cRay: '{ray}',cH: '{token('h', number, size=40)}'}};"
        "var cpo = document.createElement('script');"
        f"cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray={ray}';"
        "document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>"
    )
    headers = [
        NO_STORE,
        ("cf-mitigated", "challenge"),
        ("CF-RAY", f"{ray}-HAN"),
        ("Set-Cookie", f"__cf_bm={token('bm', number, size=43)}; path=/; HttpOnly; SameSite=None"),
    ]
    return Response(
        status, body.encode("utf-8"), "text/html; charset=UTF-8", headers, compressible=False, server="cloudflare"
    )


def challenge(kind: str, number: int, status: int | None = None) -> Response:
    """Challenge page ``number`` of ``kind`` (status: the kind's default unless given)."""
    make = incapsula if kind == "incapsula" else cloudflare
    return make(number, status or DEFAULT_STATUS[kind])


def shell(article_id: str) -> str:
    """The app shell: scripts and an empty ``<div id="app">``, no article text."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Ministry of Public Security</title>\n"
        '<link rel="stylesheet" href="/css/style.css">\n'
        f'<script>window.__PORTAL__={{"portalId":28,"api":"/backend-portal/articles/","article":"{article_id}"}}'
        "</script>\n"
        '<script src="/js/main.js" defer></script>\n</head>\n<body>\n'
        "<noscript>You need to enable JavaScript to run this app.</noscript>\n"
        '<div id="app"></div>\n</body>\n</html>\n'
    )


class Gate:
    """Which requests a challenge answers: all that match, or the first N of them."""

    def __init__(self, kind: str | None, first: int | None, status: int | None, pattern: str = "") -> None:
        self.kind, self.first, self.status = kind, first, status
        self.pattern = re.compile(pattern)
        self.seen = 0
        self._lock = threading.Lock()

    def answer(self, target: str) -> Response | None:
        """The challenge for this request, or None to let it through (counts it)."""
        if self.kind is None or not self.pattern.search(target):
            return None
        with self._lock:
            number, self.seen = self.seen, self.seen + 1
        if self.first is not None and number >= self.first:
            return None
        return challenge(self.kind, number, self.status)
