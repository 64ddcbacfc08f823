"""Bot walls and empty app shells: responses that are not the portal's page, whatever their status.

`wall_kind(status, headers, text)` runs on every response in the crawl
process, so it never parses and scans little: the headers; the first 64 KB
of a small page (walls are small: Imperva's interstitial is about 1 KB) or of
a refusing answer (403, 429, 503); only the first 4 KB of a large ordinary
page (where a wall's title and iframe would be), plus one search for an app
mount point. A marker that normal pages may also carry (Imperva injects an
`/_Incapsula_Resource` script into real pages; Cloudflare injects
`/cdn-cgi/challenge-platform/scripts/jsd/main.js`; both set their cookies on
every answer) counts only on a page with almost no visible text or with a
refusing status. Cloudflare marks every challenge with `cf-mitigated:
challenge`. Kinds:

``incapsula``  Imperva Incapsula's interstitial ("Incapsula incident ID", the
               `main-iframe` onto `/_Incapsula_Resource`).
``cloudflare`` Cloudflare's challenge ("Just a moment...", `_cf_chl_opt`,
               `cf-chl-` widgets, header `cf-mitigated: challenge`).
``challenge``  another anti-bot interstitial: 403, 429 or 503 with a captcha or
               "checking your browser" body.
``shell``      an HTML page with scripts, an app mount point (`<div id="app">`,
               `root`, `__next`, `__nuxt`, `<app-root>`) and under 200 characters
               of visible text: an empty shell a script fills.
"""

from __future__ import annotations

import re

HEAD = 65536  # at most the first 64 KB are looked at
SMALL = 16384  # pages up to this size are searched whole (up to HEAD)
START = 4096  # of a larger ordinary page, only this much
SHELL_TEXT = 200  # fewer visible characters than this, with scripts and a mount point: an app shell
REFUSING = (403, 429, 503)
# Markers in lower case, searched in the page's bytes lower-cased (bytes: ASCII case folding is cheap).
INCAPSULA = (b"incapsula incident id", b"_incapsula_resource?cwudnsai")
INCAPSULA_WEAK = (b"_incapsula_resource", b"incap_ses_", b"visid_incap_")
CLOUDFLARE = (
    b"<title>just a moment...</title>",
    b"window._cf_chl_opt",
    b"cf-chl-widget",
    b"orchestrate/chl_page",
    b"orchestrate/managed",
    b"orchestrate/jsch",
)
CLOUDFLARE_WEAK = (b"/cdn-cgi/challenge-platform/", b"cf-chl", b"__cf_bm=")
CHALLENGE = (
    b"captcha",
    b"checking your browser",
    b"verify you are human",
    b"are you a robot",
    b"enable javascript and cookies",
    b"ddos protection",
    b"access denied",
    b"request unsuccessful",
)
# An app's mount point: case-sensitive with one literal prefix, so the scan is fast.
MOUNT = re.compile(r'<div id="(?:app|root|__next|__nuxt)"|<app-root[ >]')
INVISIBLE = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<noscript\b.*?</noscript>|<!--.*?-->", re.DOTALL)
TAG = re.compile(r"<[^>]*>")


def wall_kind(status: int, headers: list[tuple[str, str]], text: str) -> str | None:
    """What kind of wall or shell this response is, or None for an ordinary page."""
    named = " ".join(f"{k}: {v}" for k, v in headers).lower().encode("utf-8", "replace")
    if b"cf-mitigated: challenge" in named:
        return "cloudflare"
    refusing = status in REFUSING
    head = (text[:HEAD] if refusing or len(text) <= SMALL else text[:START]).encode("utf-8", "replace").lower()
    if any(m in head for m in INCAPSULA):
        return "incapsula"
    if any(m in head for m in CLOUDFLARE):
        return "cloudflare"
    mounted = MOUNT.search(text, 0, HEAD) is not None
    weak = _weak(head, named, INCAPSULA_WEAK) or _weak(head, named, CLOUDFLARE_WEAK)
    # markers normal pages also carry count only on a refusing answer or a page with almost no text
    suspect = (weak or mounted) and (refusing or _thin(text, mounted))
    if suspect and weak:
        return "incapsula" if _weak(head, named, INCAPSULA_WEAK) else "cloudflare"
    if refusing and any(m in head for m in CHALLENGE):
        return "challenge"
    if 200 <= status < 300 and suspect and mounted and b"<script" in head:
        return "shell"
    return None


def _weak(head: bytes, named: bytes, markers: tuple[bytes, ...]) -> bool:
    return any(m in head or m in named for m in markers)


def _thin(text: str, mounted: bool) -> bool:
    """Almost no visible text (measured only on small pages and pages with a mount point)."""
    if len(text) > SMALL and not mounted:
        return False
    visible = TAG.sub(" ", INVISIBLE.sub(" ", text[:HEAD]))
    return len(" ".join(visible.split())) < SHELL_TEXT
