"""Reindex's page readers: `read_page` in worker processes, the readings handed back in capture order.

Parsing pages is most of reindex's work and needs no shared state, so it runs
in a process pool while the main process reads the WARC files. Pages go to the
workers 32 to a message (the pool's per-message cost is then paid once per
batch), at most 16 batches in flight to them (that bounds memory), and come back in
the order they were given, so the catalogue sees captures in the order they
were made. When the workers fall behind (16 batches queued), the main
process reads the next batch itself instead of waiting, so both cores stay
busy whichever side is slower. Workers ignore Ctrl-C: the main process ends
them.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.pool import AsyncResult, Pool
from types import TracebackType

from portal_crawler.catalogue.ingest import PageCapture, PageReading, read_page
from portal_crawler.extraction.profile import Profile
from portal_crawler.extraction.urls import UrlInfo, UrlRules

BATCH = 32  # pages per message to a worker
QUEUED_BATCHES = 16  # batches in flight to the workers; past that the reader reads the next batch itself
MAX_WORKERS = 4


@dataclass(frozen=True)
class PageJob:
    """One page capture to read, with the hosts of its run (the URL rules for a listing's links)."""

    capture: PageCapture
    info: UrlInfo
    scope: tuple[str, ...]


_PROFILE: Profile | None = None  # one profile per worker process, set once by _init_worker
_RULES: dict[tuple[str, ...], UrlRules] = {}


def _use_profile(profile: Profile) -> None:
    global _PROFILE
    _PROFILE = profile
    _RULES.clear()


def _init_worker(profile: Profile) -> None:
    _use_profile(profile)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def rules_for(profile: Profile, scope: tuple[str, ...]) -> UrlRules:
    """The URL rules of a run's hosts (one per scope, kept by the reader and by each worker)."""
    if scope not in _RULES:
        _RULES[scope] = UrlRules(profile, scope)
    return _RULES[scope]


def _read(job: PageJob) -> PageReading:
    assert _PROFILE is not None, "worker not initialised"
    return read_page(job.capture, job.info, _PROFILE, rules_for(_PROFILE, job.scope))


def _read_batch(jobs: list[PageJob]) -> list[PageReading]:
    return [_read(job) for job in jobs]


class _Read:
    """A batch the reading process read itself, queued behind the workers' batches to keep the order."""

    def __init__(self, readings: list[PageReading]) -> None:
        self.readings = readings

    def ready(self) -> bool:
        return True

    def get(self) -> list[PageReading]:
        return self.readings


class PagePool:
    """Reads pages in `workers` processes (in this one when workers is 1), handing readings back in order."""

    def __init__(
        self, profile: Profile, workers: int | None = None, batch: int = BATCH, queued: int = QUEUED_BATCHES
    ) -> None:
        self.profile = profile
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
        self.batch_size, self.queued = batch, queued
        self.read_here = 0  # batches this process read itself because the workers were behind
        self.pool: Pool | None = None
        self.batch: list[PageJob] = []
        self.pending: deque[AsyncResult[list[PageReading]] | _Read] = deque()

    def __enter__(self) -> PagePool:
        _use_profile(self.profile)
        if self.workers > 1:
            self.pool = get_context("fork").Pool(self.workers, _init_worker, (self.profile,))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.pool is not None:
            self.pool.terminate() if kind is not None else self.pool.close()
            self.pool.join()
            self.pool = None

    def submit(self, job: PageJob) -> list[PageReading]:
        """Queue one page; the readings that are ready now, in submission order."""
        if self.pool is None:
            return [_read(job)]
        self.batch.append(job)
        if len(self.batch) < self.batch_size:
            return []
        if len(self.pending) >= self.queued and not self.pending[0].ready():
            self.pending.append(_Read(_read_batch(self.batch)))  # the workers are behind: read it here, not wait
            self.batch = []
            self.read_here += 1
        else:
            self._send()
        ready: list[PageReading] = []
        while self.pending and self.pending[0].ready():
            ready += self.pending.popleft().get()
        return ready

    def drain(self) -> list[PageReading]:
        """The readings of every page submitted so far, in submission order."""
        if self.batch:
            self._send()
        ready: list[PageReading] = []
        while self.pending:
            ready += self.pending.popleft().get()
        return ready

    def _send(self) -> None:
        assert self.pool is not None
        self.pending.append(self.pool.apply_async(_read_batch, (self.batch,)))
        self.batch = []
