"""The other content tree, behind ``Portal-Id`` 22 or 25: three Vietnamese articles.

The live back end serves the Vietnamese portals from the same API and picks
the tree by that header (PORTAL.md), so a crawler sending the wrong value
gets real-looking answers about other articles, not an error. These three
have their own IDs and ``/bai-viet/<slug>-d<N>-t<ID>`` URLs, none of which
the English site serves.
"""

from __future__ import annotations

from datetime import date

from portal_crawler.replica.api import NEWS, Query, page_of

PORTALS = ("22", "25")
ENTRIES = (
    (
        51003,
        "Bộ Công an tổng kết công tác năm 2024",
        "bo-cong-an-tong-ket-cong-tac-nam-2024",
        "2025-01-10T08:30:00+07:00",
        "Sáng 10/1, Bộ Công an tổ chức Hội nghị tổng kết công tác công an năm 2024.",
    ),
    (
        51002,
        "Công an các địa phương ra quân bảo đảm trật tự an toàn giao thông",
        "cong-an-cac-dia-phuong-ra-quan-bao-dam-trat-tu-an-toan-giao-thong",
        "2024-12-20T15:00:00+07:00",
        "Công an các tỉnh, thành phố đồng loạt ra quân cao điểm bảo đảm trật tự an toàn giao thông.",
    ),
    (
        51001,
        "Triển khai cấp căn cước cho công dân",
        "trien-khai-cap-can-cuoc-cho-cong-dan",
        "2024-07-01T09:15:00+07:00",
        "Từ ngày 1/7, Công an các địa phương triển khai cấp thẻ căn cước theo Luật Căn cước.",
    ),
)


def entry(row: tuple[int, str, str, str, str]) -> dict:
    api_id, title, slug, published, summary = row
    return {
        "articleId": api_id,
        "title": title,
        "slug": slug,
        "summary": summary,
        "publishTime": published,
        "url": f"/bai-viet/{slug}-d{api_id % 7 + 1}-t{api_id}",
        "thumbnail": None,
    }


def listing(query: Query) -> dict:
    """``data`` of a listing answer from this tree (same paging and day rules)."""
    found = [entry(row) for row in ENTRIES if query.news and query.covers(date.fromisoformat(row[3][:10]))]
    start = query.page * query.size
    return page_of(query, len(found), found[start : start + query.size])


def detail(api_id: int) -> dict | None:
    """``data`` of a detail answer, or None when the ID is not in this tree."""
    row = next((row for row in ENTRIES if row[0] == api_id), None)
    if row is None:
        return None
    summary = row[4]
    return {
        **{k: v for k, v in entry(row).items() if k != "thumbnail"},
        "author": "Ban Biên tập",
        "contentHtml": f"<p>{summary}</p>",
        "images": [],
        "category": {"id": NEWS, "name": "Tin tức"},
    }
