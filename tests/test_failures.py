"""The one line an unclean run prints: the reason of its first failed fetch, and the line by the exit code's order."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import exceptions as scrapy_errors
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_errors
from twisted.python.failure import Failure
from twisted.web import _newclient

from portal_crawler.crawl.failures import failure_reason, failure_text
from portal_crawler.crawl.run import RunResult

URL = "http://127.0.0.1:8080/news-and-events.html"


def failed(error: BaseException) -> Failure:
    try:
        raise error
    except BaseException:
        return Failure()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (scrapy_errors.CannotResolveHostError("no such host"), "DNS lookup failed"),
        (tx_errors.DNSLookupError("no such host"), "DNS lookup failed"),
        (scrapy_errors.DownloadConnectionRefusedError("refused"), "connection refused"),
        (tx_errors.ConnectionRefusedError(), "connection refused"),
        (scrapy_errors.DownloadTimeoutError("took longer than 30 seconds"), "timeout"),
        (tx_errors.TimeoutError(), "timeout"),
        (tx_errors.TCPTimedOutError(), "timeout"),
        (scrapy_errors.ResponseDataLossError(), "answer cut short"),
        (scrapy_errors.DownloadFailedError("lost"), "connection lost"),
        (_newclient.ResponseNeverReceived([]), "connection lost"),
        (tx_errors.ConnectionLost(), "connection lost"),
        (HttpError(HtmlResponse(URL, status=503), "Ignoring non-200 response"), "HTTP status 503"),
        (HttpError(HtmlResponse(URL, status=403), "Ignoring non-200 response"), "HTTP status 403"),
        (scrapy_errors.IgnoreRequest("Forbidden by robots.txt"), "Forbidden by robots.txt"),
        (RuntimeError(), "RuntimeError"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value,
)
def test_a_failure_is_named_in_a_few_words(error: BaseException, reason: str) -> None:
    assert failure_reason(failed(error)) == reason


def test_the_first_failure_as_text() -> None:
    assert failure_text((URL, "connection refused")) == f"{URL}: connection refused"
    assert failure_text(None) is None


def result(status: str, errors: int = 0, **fields: object) -> RunResult:
    counts = {"requests": 3, "errors": errors}
    return RunResult(7, status, "incremental", counts, 1.0, Path("/srv/a"), **fields)


LOG = Path("/srv/a/logs/crawl-20261201T021700Z.log")
FIRST = f"{URL}: connection refused"


def test_an_ok_run_has_no_line() -> None:
    assert result("ok").problem_line() is None
    assert result("ok").exit_code == 0


def test_a_run_with_errors_names_its_first_failure_and_the_log() -> None:
    run = result("errors", 3, error=FIRST, first_failure=FIRST, log=LOG)
    assert run.problem_line() == f"3 errors, the first {FIRST} (log: {LOG})"
    assert run.exit_code == 1
    assert result("errors", 1, first_failure=FIRST).problem_line() == f"1 error, the first {FIRST}"


def test_errors_the_writer_counted_alone_still_say_so() -> None:
    assert result("errors", 2, log=LOG).problem_line() == f"2 errors (log: {LOG})"
    assert result("failed", log=LOG).problem_line() == f"run 7 failed (log: {LOG})"


def test_what_stopped_the_run_wins_over_its_first_failure() -> None:
    run = result("failed", 1, error="the archive writer stopped (exit -9)", first_failure=FIRST, log=LOG)
    assert run.problem_line() == "the archive writer stopped (exit -9)"


def test_drift_leads_and_the_errors_follow() -> None:
    alarms = ["published empty in 31/31 new articles, e.g. http://127.0.0.1:8080/t1.html"]
    run = result("errors", 1, first_failure=FIRST, alarms=alarms)
    line = run.problem_line()
    assert line is not None and line.startswith("layout drift: published empty in 31/31")
    assert line.endswith(f"; also 1 error, the first {FIRST}") and run.exit_code == 3
    assert "; also" not in (result("ok", alarms=alarms).problem_line() or "; also")


def test_a_wall_is_the_blocked_line() -> None:
    line = "blocked: 5 challenge pages in a row from 127.0.0.1:8080; the portal is refusing this crawler"
    run = result("blocked", 5, error=line, first_failure=FIRST)
    assert run.problem_line() == line and run.exit_code == 4
