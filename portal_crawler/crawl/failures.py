"""Why a fetch failed, in the few words of the one line cron mails: DNS lookup failed, connection refused, timeout...

The spider keeps its run's first failed fetch as (URL, reason); `crawl` prints
it as the cause of an unclean run (crawl/run.py), and the run row keeps it
(`runs.error_summary`). The full story of every failure stays in the log.
Scrapy 2.19 wraps Twisted's errors in its own (`scrapy.exceptions`); older
releases pass Twisted's through: both are named here.
"""

from __future__ import annotations

from scrapy import exceptions as scrapy_errors
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer
from twisted.internet import error as tx_errors
from twisted.python.failure import Failure
from twisted.web import _newclient

FirstFailure = tuple[str, str]  # (URL, reason)


def _kinds(*names: str) -> tuple[type[BaseException], ...]:
    """Scrapy's exception classes of these names that this Scrapy release has."""
    return tuple(kind for name in names if isinstance(kind := getattr(scrapy_errors, name, None), type))


REASONS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((*_kinds("CannotResolveHostError"), tx_errors.DNSLookupError), "DNS lookup failed"),
    ((*_kinds("DownloadConnectionRefusedError"), tx_errors.ConnectionRefusedError), "connection refused"),
    (
        (*_kinds("DownloadTimeoutError"), tx_errors.TimeoutError, tx_errors.TCPTimedOutError, defer.TimeoutError),
        "timeout",
    ),
    ((*_kinds("ResponseDataLossError"), _newclient._DataLoss), "answer cut short"),
    (
        (*_kinds("DownloadFailedError"), _newclient.ResponseFailed, tx_errors.ConnectionLost, tx_errors.ConnectionDone),
        "connection lost",
    ),
)


def failure_reason(failure: Failure) -> str:
    """The reason for a request's errback failure: an HTTP status, a network fault, or Scrapy's own words."""
    if isinstance(failure.value, HttpError):
        return f"HTTP status {failure.value.response.status}"
    for kinds, reason in REASONS:
        if failure.check(*kinds):
            return reason
    return failure.getErrorMessage() or type(failure.value).__name__


def failure_text(first: FirstFailure | None) -> str | None:
    """`URL: reason`, as the one line and the run row say it."""
    return f"{first[0]}: {first[1]}" if first else None
