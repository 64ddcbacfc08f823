"""Counts per month or per year as a plain SVG bar chart, for the Datasette reading room.

Drawn by hand because it is a few rectangles: a charting library (Vega-Lite
through datasette-vega) would need JavaScript from a CDN or a plugin that is
not installed offline, and the SVG works with scripts off. Missing months or
years between the first and the last are drawn as empty slots (labelled in
their tooltip), so a gap in the archive shows as a gap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

WIDTH, HEIGHT = 960, 240
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 48, 36, 12
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"\d{4}")


def _months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    slots = []
    while (year, month) <= end:
        slots.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return slots


def slots(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Every month (YYYY-MM) or year (YYYY) from the first to the last, with 0 where there is none."""
    labels = sorted(counts)
    if labels and all(_MONTH.fullmatch(k) for k in labels):
        every = _months(labels[0], labels[-1])
    elif labels and all(_YEAR.fullmatch(k) for k in labels):
        every = [str(y) for y in range(int(labels[0]), int(labels[-1]) + 1)]
    else:
        every = labels
    return [(label, counts.get(label, 0)) for label in every]


def _bar(index: int, width: float, label: str, count: int, top: int) -> str:
    plot = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    height = plot * count / top if top else 0
    x, y = MARGIN_LEFT + index * width, HEIGHT - MARGIN_BOTTOM - height
    noun = "article" if count == 1 else "articles"
    return (
        f'<rect class="portal-bar" x="{x + 1:.1f}" y="{y:.1f}" width="{max(width - 2, 1):.1f}" height="{height:.1f}">'
        f"<title>{escape(label)}: {count} {noun}</title></rect>"
    )


def _axis(points: list[tuple[str, int]], width: float, top: int) -> list[str]:
    """The count at the top of the scale, and about a dozen labels along the bottom."""
    step = max(1, len(points) // 12)
    baseline = HEIGHT - MARGIN_BOTTOM
    marks = [
        f'<line x1="{MARGIN_LEFT}" y1="{baseline}" x2="{WIDTH}" y2="{baseline}" stroke="#666"/>',
        f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 10}" text-anchor="end">{top}</text>',
        f'<text x="{MARGIN_LEFT - 6}" y="{baseline}" text-anchor="end">0</text>',
    ]
    for index in range(0, len(points), step):
        x = MARGIN_LEFT + (index + 0.5) * width
        marks.append(f'<text x="{x:.1f}" y="{baseline + 16}" text-anchor="middle">{escape(points[index][0])}</text>')
    return marks


def bar_chart(rows: Iterable[tuple[str, int]], title: str) -> str:
    """An SVG of the rows (label, count); labels that are months or years get their gaps filled."""
    counts: dict[str, int] = {}
    for label, count in rows:
        if label is not None:
            counts[str(label)] = counts.get(str(label), 0) + int(count or 0)
    points = slots(counts)
    if not points:
        return ""
    width = (WIDTH - MARGIN_LEFT) / len(points)
    top = max(count for _, count in points)
    shapes = [_bar(i, width, label, count, top) for i, (label, count) in enumerate(points)]
    return (
        f'<svg class="portal-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(shapes + _axis(points, width, top))
        + "</svg>"
    )
