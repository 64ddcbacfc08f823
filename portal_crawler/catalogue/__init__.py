"""The SQLite catalogue: schema and migrations, the store that owns every write, queries."""

from portal_crawler.catalogue.store import CapturePointer, Catalogue, CatalogueBusy, CatalogueError, content_hash

__all__ = ["CapturePointer", "Catalogue", "CatalogueBusy", "CatalogueError", "content_hash"]
