"""WARC: what a capture is (`records`), writing it (`writer`, its bytes composed in `compose`), reading it back.

Reading: `reader` (a record at a pointer, the scan with digests), `captures`
(reindex's sequential reader, FastWARC), `members` (gzip members by hand: exact
offsets, damage), `archived` (the read-side types), `warcinfo`, `revisit`
(a revisit to its original), `codings` (Content-Encoding, capped).
A leaf package: it imports nothing else of the project.
"""
