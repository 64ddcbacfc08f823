"""The archivist's desk: reading, search, export, stats, browse (read-only over the catalogue and WARC)."""
