"""What an article says, as the catalogue stores and compares it: column values and the content hash.

The hash decides whether a fetch is a new version, so it covers what the
article says and nothing about where it was fetched from: images count by
path, because one portal answers under several host names
(en.bocongan.gov.vn, en.mps.gov.vn) and a replica under any port.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

HASHED_FIELDS = ("title", "published", "author", "body", "captions", "images")
CONTENT_FIELDS = ("title", "published", "author", "summary", "body", "captions", "images")  # what a version keeps
ARTICLE_COLUMNS = (
    "id",
    "url",
    "title",
    "published",
    "author",
    "summary",
    "body",
    "captions",
    "images",
    "section",
    "template",
    "quality",
    "problems",
    "field_sources",
    "profile_revision",
)
JSON_COLUMNS = ("captions", "images", "problems", "field_sources")


def by_path(url: str) -> str:
    """The URL without scheme, host and port: `http://a:8080/x.jpg?s=1` -> `/x.jpg?s=1`."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _as_list(value: Any) -> list[Any]:
    """A list column as a list, whether given as a list or as the JSON text the catalogue stores."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return list(value) if isinstance(value, (list, tuple)) else ([] if value is None else [value])


def content_hash(article: dict[str, Any]) -> str:
    """sha256 of title, published, author, body, captions and images by path: equal content, equal hash."""
    content = {k: article.get(k) for k in HASHED_FIELDS}
    content["captions"] = _as_list(content["captions"])
    content["images"] = [by_path(u) if isinstance(u, str) else u for u in _as_list(content["images"])]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def row_values(article: dict[str, Any]) -> dict[str, Any]:
    """Article item fields as column values: lists and mappings become JSON text, absent fields NULL."""
    values = {}
    for column in ARTICLE_COLUMNS:
        value = article.get(column)
        if isinstance(value, (list, tuple)):
            value = json.dumps(list(value), ensure_ascii=False)
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        values[column] = value
    return values
