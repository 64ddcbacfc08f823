"""A slice's page requisites: the images, stylesheets and scripts its pages embed, found in the pages' own HTML.

The catalogue does not link a page to what it embeds (the crawl fetches a
requisite once, whichever page named it first), so each page of the slice is
read back from its WARC record (a revisit through its original), and the URLs
it embeds, as the crawl's spider reads them (`img src`, stylesheet `link href`,
`script src`), are looked up in the catalogue: the capture nearest to the
page's is added to the slice. The whole archive needs none of this: its WARC
files go in whole.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import lxml.html
from lxml import etree

from portal_crawler.core.paths import ArchivePaths
from portal_crawler.wacz.layout import WaczFailure
from portal_crawler.wacz.selection import Selection
from portal_crawler.warc.codings import DECODE_LIMIT
from portal_crawler.warc.reader import WarcReadError, read_record
from portal_crawler.warc.revisit import resolve_revisit

log = logging.getLogger(__name__)
_STYLESHEET = "contains(concat(' ', normalize-space(translate(@rel, 'STYLEHS', 'stylehs')), ' '), ' stylesheet ')"
EMBEDDED = etree.XPath(f"//img/@src | //script/@src | //link[{_STYLESHEET}]/@href")
BASE = etree.XPath("//base/@href")


def embedded_urls(html: bytes, page_url: str) -> list[str]:
    """Absolute URLs (no fragment) of the images, scripts and stylesheets a page embeds, in document order."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):  # an empty or unparsable page embeds nothing
        return []
    bases = BASE(tree)
    base = urljoin(page_url, str(bases[0]).strip()) if bases else page_url
    found: dict[str, None] = {}
    for src in EMBEDDED(tree):
        text = str(src).strip()
        if text and not text.startswith(("data:", "javascript:")):
            found.setdefault(urldefrag(urljoin(base, text))[0], None)
    return list(found)


def add_requisites(selection: Selection, paths: ArchivePaths) -> int:
    """Add every page's requisites to the slice; how many pages were read."""

    def locate(record_id: str) -> tuple[Path, int] | None:
        where = selection.record(record_id)
        return (paths.warc_file(where[0]), where[1]) if where else None

    pages = 0
    for capture_id, url, filename, offset in selection.pages():
        try:
            record = resolve_revisit(read_record(paths.warc_file(filename), offset), locate)
        except WarcReadError as error:
            raise WaczFailure(
                f"{error.path}: damaged WARC record at offset {error.offset}: {error.reason};"
                " no package was written (run 'portal-crawler verify')"
            ) from None
        if record is None:
            continue  # a revisit whose original the archive lacks: nothing to read (verify reports it)
        try:
            html = record.decoded_body(DECODE_LIMIT)
        except ValueError as error:
            log.warning("wacz: %s (capture %d): %s; its requisites are not looked for", url, capture_id, error)
            continue
        selection.add_nearest(embedded_urls(html, url), capture_id)
        pages += 1
    return pages
