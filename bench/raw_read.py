"""The baseline of the reindex benchmark: a plain warcio loop over the same WARC files.

    python -m bench.raw_read WARC_DIR [--fastwarc]

Reads every record of every `*.warc.gz` file (in name order, as reindex does)
with warcio's ArchiveIterator and drains each record's content_stream fully.
With --fastwarc, the same loop with FastWARC (reindex's reader), reading each
record's payload: the floor under reindex's own reading, for the notes.
Prints one JSON line: {"files": ..., "records": ..., "bytes": ..., "seconds": ...}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from fastwarc.warc import ArchiveIterator as FastIterator
from warcio.archiveiterator import ArchiveIterator

CHUNK = 1 << 16


def read_all(warc_dir: Path) -> dict[str, float]:
    started = time.monotonic()
    files = records = size = 0
    for path in sorted(Path(warc_dir).glob("*.warc.gz")):
        files += 1
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                stream = record.content_stream()
                while True:
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                records += 1
    return {"files": files, "records": records, "bytes": size, "seconds": round(time.monotonic() - started, 3)}


def read_all_fastwarc(warc_dir: Path) -> dict[str, float]:
    """Every record with FastWARC, payload read (its content is not decoded, as reindex's is not)."""
    started = time.monotonic()
    files = records = size = 0
    for path in sorted(Path(warc_dir).glob("*.warc.gz")):
        files += 1
        with open(path, "rb") as handle:
            for record in FastIterator(handle):
                size += len(record.reader.read())
                records += 1
    return {"files": files, "records": records, "bytes": size, "seconds": round(time.monotonic() - started, 3)}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    fast = "--fastwarc" in args
    args = [a for a in args if a != "--fastwarc"]
    if len(args) != 1:
        print("usage: python -m bench.raw_read WARC_DIR [--fastwarc]", file=sys.stderr)
        return 2
    print(json.dumps((read_all_fastwarc if fast else read_all)(Path(args[0]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
