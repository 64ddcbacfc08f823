"""A pywb index over WACZ files in place: each index line points at its record inside the .wacz file itself.

pywb reads a record by file name, offset and length. A package's WARC files
are stored uncompressed in the ZIP, so a record's bytes sit in the .wacz file
at (where its WARC entry's data starts) + (its offset in that WARC file): the
package's own index, with those two fields rewritten, lets pywb serve the
package as it is, with nothing unpacked or copied (pywb's `wb-manager add
--unpack-wacz` copies every WARC file out first).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Generator, Sequence
from contextlib import ExitStack, closing
from pathlib import Path

from portal_crawler.wacz.indexing import not_modified
from portal_crawler.wacz.layout import ARCHIVE_DIR, WaczProblem
from portal_crawler.wacz.zipped import data_start, index_lines, open_package


def in_place_lines(wacz: Path) -> Generator[str, None, None]:
    """The package's index lines, sorted as stored, with `filename` the .wacz and `offset` within it."""
    with open_package(wacz) as package, open(wacz, "rb") as raw:
        starts = {
            info.filename[len(ARCHIVE_DIR) :]: data_start(raw, info)
            for info in package.infolist()
            if info.filename.startswith(ARCHIVE_DIR) and info.compress_type == 0
        }
        for line in index_lines(package):
            key, timestamp, text = line.split(" ", 2)
            fields = json.loads(text)
            start = starts.get(fields.get("filename", ""))
            if start is None or not_modified(line):
                continue  # a record in a compressed entry (no package of ours has one) cannot be read in place
            fields["offset"], fields["filename"] = str(start + int(fields["offset"])), wacz.name
            yield f"{key} {timestamp} {json.dumps(fields)}\n"


def write_replay_index(waczs: Sequence[Path], index: Path) -> list[Path]:
    """pywb's index over the packages (merged, sorted) at `index`; the directories pywb must read them from.

    Each package is checked to be a readable WACZ before anything is written.
    """
    names = [wacz.name for wacz in waczs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise WaczProblem(f"two WACZ files named {twice[0]}: give each package a different name")
    for wacz in waczs:
        with open_package(wacz):
            pass
    with ExitStack() as stack, open(index, "w", encoding="utf-8") as out:
        sources = [stack.enter_context(closing(in_place_lines(wacz))) for wacz in waczs]
        out.writelines(heapq.merge(*sources))
    return sorted({wacz.resolve().parent for wacz in waczs})
