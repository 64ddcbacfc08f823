"""core.collector: the crawl, its writer and reindex run with start-up frozen and rarer young collections."""

from __future__ import annotations

import gc
import weakref

import pytest

from portal_crawler.core.collector import YOUNG, tuned_collector


def test_within_start_up_is_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    with tuned_collector():
        assert gc.get_threshold() == (YOUNG, *before[1:])
        assert gc.get_freeze_count() > 1000  # this test process's modules, at least
        assert gc.isenabled()  # cycles are still collected, only less often
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_made_within_is_still_collected_without_being_asked() -> None:
    class Node:
        pass

    with tuned_collector():
        first = None
        for n in range(3 * YOUNG):  # more than a young generation's worth of cycles, none collected by hand
            node = Node()
            node.self = node  # type: ignore[attr-defined]
            if n == 0:
                first = weakref.ref(node)
            del node
        assert first is not None and first() is None  # the collector ran by itself and freed the first cycle


def test_the_defaults_come_back_when_the_work_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), tuned_collector():
        raise RuntimeError("the crawl failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
