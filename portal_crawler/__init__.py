"""portal-crawler: archives the MPS English news portal as WARC captures with a SQLite catalogue."""

__version__ = "0.1.0"
