"""Items: the Article, as extraction makes it and the catalogue stores it (defined in extraction/article.py)."""

from __future__ import annotations

from portal_crawler.extraction.article import Article

__all__ = ["Article"]
