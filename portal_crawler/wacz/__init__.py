"""WACZ 1.1.1 packages of the archive: one file an archivist can hand on, opened in ReplayWeb.page or pywb.

- `layout`: the package's names and fields (the one place they are spelled), its errors;
- `package`: the ZIP written as it is built, under a temporary name, published complete or not at all;
- `selection`: which captures a slice holds (catalogue reads into a temporary table);
- `requisites`: the images, stylesheets and scripts a page embeds (from its HTML);
- `records`: a slice's WARC bytes, copied byte for byte from the archive's files;
- `indexing`: CDXJ with cdxj-indexer, per WARC file, merged, ZipNum-compressed when large;
- `pages`: pages/pages.jsonl (articles with their text) and pages/extraPages.jsonl (listings);
- `build`: `write_wacz`, all of the above in order;
- `zipped`: reading a package back (entries, stored data offsets); `verify`: `verify_wacz`, with
  `pointers` (does an index line point at its record?);
- `replay_index`: a pywb index that reads the WARC records inside a WACZ in place.

Imports core, warc and catalogue only; cli and upkeep.replay import it.
"""
