"""The archive writer: a process of its own that writes WARC records and catalogue rows.

The crawl's reactor thread only turns each response into an `Exchange` and
hands it over; this process compresses and digests the WARC records, extracts
articles from the pages (`pages.article_item`, the same code `reindex` uses),
validates and versions them in the catalogue, on the machine's other core.
Messages arrive in order on stdin as length-prefixed pickles, so a capture is
always catalogued before the article that points at it. The process inherits
the archive lock, so no other run starts while it still writes; when the crawl
dies (stdin closes) it writes out what it received and exits.
"""

from __future__ import annotations

import logging
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

FRAME = struct.Struct("!I")
logger = logging.getLogger("portal_crawler.writer")


@dataclass(frozen=True)
class WriterConfig:
    archive_dir: Path
    profile: str
    run_id: int
    mode: str
    max_warc_size: int
    commit_every: int
    commit_seconds: float
    log_file: str | None = None


def frame(message: Any) -> bytes:
    """One message as the bytes that carry it: length prefix, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks, missing = [], size
    while missing:
        chunk = stream.read(missing)
        if not chunk:
            break
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Any | None:
    """The next message, or None at end of stream (also when the stream was cut mid-frame)."""
    head = _read_exact(stream, FRAME.size)
    if len(head) < FRAME.size:
        return None
    size = FRAME.unpack(head)[0]
    data = _read_exact(stream, size)
    return pickle.loads(data) if len(data) == size else None
