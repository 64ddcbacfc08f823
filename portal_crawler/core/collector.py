"""CPython's cyclic garbage collector, tuned for a long process that allocates fast (a crawl, its writer, reindex).

Measured on a 10,000-article crawl pinned to one CPU, writer inline (ad hoc,
`gc.callbacks` timing every collection; README "Performance"): with CPython's
defaults the collector took 8.2 to 9.8 s of the crawl's 82 to 92 s of CPU.
Most of it (4.3 to 5.3 s) was 53 to 59 full collections, each walking every
object left from start-up: Scrapy, Twisted, lxml and their modules, which
never become garbage. Freezing them (`gc.freeze`, Python 3.7+) takes them out
of every later collection; a young generation of 5,000 objects instead of 700
lets most of a response's short-lived containers die by reference counting
before a collection ever looks at them. Together: 1.2 to 1.8 s of collection
instead of 8 to 10 s, for about 10 MB more peak memory on one CPU (126 to 128
against 116 to 117 MB; the same at 20,000 articles on two). Garbage cycles
are still collected, only less often. In reindex, freezing before the page
workers fork also keeps their copy-on-write pages shared.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 5000  # objects allocated (net) before a young collection; CPython's default is 700


@contextmanager
def tuned_collector() -> Iterator[None]:
    """Within: what exists on entry (start-up's modules and objects) frozen, young collections rarer.

    On exit the objects are unfrozen and the thresholds restored, so a caller
    that goes on (a test calling reindex in-process) keeps CPython's defaults.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
