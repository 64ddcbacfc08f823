"""bench.against: which tree goes first in each round, and how the figures are compared."""

from __future__ import annotations

from pathlib import Path

from bench.against import alternate, summarise, table


def test_the_trees_take_turns_going_first() -> None:
    order: list[str] = []
    trees = {"release": Path("/r"), "this": Path("/t")}
    got = alternate(4, trees, lambda name, tree: order.append(name) or float(len(order)))
    assert order == ["release", "this", "this", "release", "release", "this", "this", "release"]
    assert got == {"release": [1.0, 4.0, 5.0, 8.0], "this": [2.0, 3.0, 6.0, 7.0]}


def test_each_figure_is_the_release_median_over_this_trees() -> None:
    result = summarise(
        "1a1439a",
        3,
        500,
        reindex={"release": [9.0, 10.0, 11.0], "this": [8.0, 12.0, 5.0]},
        search={
            "release": [{"p50_ms": 6.0, "p95_ms": 20.0}] * 3,
            "this": [{"p50_ms": 4.0, "p95_ms": 25.0}] * 3,
        },
        nothing_new={"release": [(1.2, 2)] * 3, "this": [(1.5, 2)] * 3},
    )
    figures = {row["figure"]: row["release_over_this"] for row in result["rows"]}
    assert figures == {
        "reindex_s": 1.25,  # 10 / 8: this tree faster
        "search_p50_ms": 1.5,
        "search_p95_ms": 0.8,  # slower
        "nothing_new_s": 0.8,
        "nothing_new_requests": 1.0,
    }
    assert "reindex_s" in table(result) and "1a1439a" in table(result)
