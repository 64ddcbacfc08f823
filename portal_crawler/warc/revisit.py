"""A revisit record's body is its original's: the one place a revisit is followed to the record it stands for.

Used by reindex (which knows where each response record of the archive is as
it reads them) and by `show` (which asks the catalogue), each giving its own
way to find a record by its WARC-Record-ID.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from portal_crawler.warc.archived import ArchivedResponse
from portal_crawler.warc.reader import read_record

Locate = Callable[[str], tuple[Path, int] | None]  # WARC-Record-ID -> (file, offset) of that record, if known
MAX_HOPS = 8  # a revisit of a revisit is followed; a longer chain (or a loop) is not an archive we wrote


def resolve_revisit(record: ArchivedResponse, locate: Locate) -> ArchivedResponse | None:
    """The response record whose entity `record` stands for (`record` itself when it is a response).

    None when the chain leads to a record the archive does not have. Reading a
    located record can raise WarcReadError.
    """
    for _ in range(MAX_HOPS):
        if record.record_type != "revisit":
            return record
        where = locate(record.refers_to) if record.refers_to else None
        if where is None:
            return None
        record = read_record(*where)
    return None
