"""The pipe to the writer process: in order, never blocking on a full pipe, bounded, and safe when the writer dies."""

from __future__ import annotations

import os
import threading
import time

import pytest

from portal_crawler.writer.pipes import FramePipe


def frames(count: int, size: int) -> list[bytes]:
    return [f"{n:08d}".encode() * (size // 8) for n in range(count)]


def read_all(fd: int, into: bytearray, delay: float = 0.0) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        while chunk := os.read(fd, 1 << 16):
            into.extend(chunk)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def close_and_collect(pipe: FramePipe, ends: tuple[int, int], reader: threading.Thread, received: bytearray) -> bytes:
    """Close the pipe as ArchiveRun does; everything the reader got by end of file."""
    pipe.close()
    os.close(ends[1])
    reader.join(10)
    os.close(ends[0])
    return bytes(received)


def test_a_full_pipe_does_not_block_the_sender_and_order_is_kept() -> None:
    read_end, write_end = os.pipe()
    pipe = FramePipe(write_end)
    sent = frames(80, 64 << 10)  # 5 MB: several times what the pipe holds
    started = time.monotonic()
    assert all(pipe.send(data) for data in sent)  # nobody reads yet: the rest waits in the backlog
    assert time.monotonic() - started < 5
    assert pipe.backlog, "the pipe should have filled"
    received = bytearray()
    reader = read_all(read_end, received)
    assert close_and_collect(pipe, (read_end, write_end), reader, received) == b"".join(sent)


def test_a_backlog_over_the_limit_makes_the_sender_wait() -> None:
    read_end, write_end = os.pipe()
    pipe = FramePipe(write_end, limit=1 << 20)
    received = bytearray()
    reader = read_all(read_end, received, delay=0.5)
    started = time.monotonic()
    sent = frames(64, 64 << 10)  # 4 MB: 1 MB fits the pipe, then the 1 MB backlog limit
    assert all(pipe.send(data) for data in sent)
    assert time.monotonic() - started >= 0.4  # it waited for the reader
    assert pipe.waiting <= 1 << 20
    assert close_and_collect(pipe, (read_end, write_end), reader, received) == b"".join(sent)


def test_a_writer_that_went_away_is_reported_not_raised() -> None:
    read_end, write_end = os.pipe()
    pipe = FramePipe(write_end)
    assert pipe.send(b"x" * 100)
    os.close(read_end)
    assert pipe.send(b"y" * 100) is False
    assert pipe.send(b"z") is False
    pipe.close()
    os.close(write_end)


def test_a_writer_that_goes_away_with_a_backlog_waiting_does_not_hang_the_close() -> None:
    read_end, write_end = os.pipe()
    pipe = FramePipe(write_end)
    assert all(pipe.send(data) for data in frames(40, 64 << 10))  # 2.5 MB: a backlog waits
    assert pipe.backlog
    os.close(read_end)
    closing = threading.Thread(target=pipe.close, daemon=True)
    closing.start()
    closing.join(5)
    assert not closing.is_alive() and pipe.broken
    assert pipe.send(b"more") is False
    os.close(write_end)


def test_the_writer_reads_many_frames_at_a_time_in_order_and_stops_at_a_cut_frame() -> None:
    from portal_crawler.writer.pipes import WAITED, FrameReader
    from portal_crawler.writer.protocol import Close, frame

    read_end, write_end = os.pipe()
    messages = [Close("ok", {"n": n}, True) for n in range(50)]
    data = b"".join(frame(m) for m in messages)
    os.write(write_end, data + frame(Close("cut", {}, False))[:-3])  # the last frame cut short
    reader = FrameReader(read_end, gather=0.01)
    assert [reader.next(1.0) for _ in messages] == messages
    assert reader.next(0.05) is WAITED  # the cut frame is incomplete: nothing more came
    os.close(write_end)
    assert reader.next(1.0) is None  # end of stream: the cut frame is never a message
    os.close(read_end)


class Url(str):
    """A str subclass, which marshal refuses (and pickle carries)."""


@pytest.mark.parametrize("listing_date", [None, "2024-05-17"])
def test_every_message_kind_comes_out_of_its_frame_as_it_went_in(listing_date: str | None) -> None:
    from datetime import UTC, datetime, timedelta, timezone
    from pathlib import Path

    from portal_crawler.extraction.urls import UrlInfo
    from portal_crawler.warc.records import Exchange
    from portal_crawler.writer.pipes import FrameReader
    from portal_crawler.writer.protocol import Capture, Close, Message, Requisites, WriterConfig, frame

    def exchange(moment: datetime, body: bytes = b"\x1f\x8b gzip bytes \x00\xff") -> Exchange:
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=\xe9")]
        return Exchange("http://x/a-t1.html", "GET", [("Host", "x")], b"", 200, "OK", headers, body, moment, None)

    moment = datetime(2026, 12, 1, 20, 9, 31, 123457, tzinfo=UTC)
    info = UrlInfo("article", "http://x/a-t1.html", "1", "news", None)
    messages: list[Message] = [
        WriterConfig(Path("/tmp/a"), "mps", 3, "full", 10, 200, 5.0, scope=("http://x",)),
        Capture(exchange(moment), info, "Summary", listing_date, wants_requisites=True),
        Capture(exchange(moment, b""), None),  # robots.txt: no URL info, no body
        Capture(exchange(moment.astimezone(timezone(timedelta(hours=7)))), info),  # not UTC: pickled, kept as is
        Capture(exchange(moment), UrlInfo("article", Url("http://x/a-t1.html"), "1")),  # no marshal: pickled
        Requisites("http://x/a-t1.html", ("http://x/a.jpg", "http://x/s.css")),
        Requisites("http://x/b-t2.html", ()),
        Requisites("http://x/c-t3.html", (), "incapsula"),  # a wall: the crawl counts it in its streak
        Close("ok", {"requests": 4}, True, {"no_dates": ["http://x/l.html"]}, None),
    ]
    read = FrameReader(-1).feed(b"".join(frame(m) for m in messages))
    assert read == messages
    assert [type(m.exchange.request_headers) for m in read[1:5]] == [list] * 4  # lists stay lists
    assert read[1].exchange.fetched_at.tzinfo is UTC and read[3].exchange.fetched_at.utcoffset() == timedelta(hours=7)


def test_the_run_waits_for_the_writers_answers_but_not_for_ever() -> None:
    import pytest
    from scrapy.exceptions import DontCloseSpider

    from portal_crawler.spiders.portal import PortalSpider

    class Owing:
        unanswered, alive = 3, True

        def owes_answers(self, patience: float) -> bool:
            return self.alive and patience > 0

    spider = PortalSpider(start_url="http://127.0.0.1:9/news-and-events.html")
    spider.archive = Owing()  # type: ignore[assignment]
    with pytest.raises(DontCloseSpider):
        spider.wait_for_answers()
    spider.archive.alive = False  # type: ignore[attr-defined]  # the writer went quiet (or away)
    spider.wait_for_answers()  # the run may end: with an error that says why
    assert spider.failed and "owed the requisites of 3 article pages" in spider.first_failure[1]
    assert spider.archive.unanswered == 0
    spider.wait_for_answers()  # said once
    assert len(spider.failed) == 1


def test_scrapy_checks_each_of_the_spiders_callbacks_once_per_run() -> None:
    import gc

    from scrapy.utils import misc

    from portal_crawler.extraction.urls import UrlInfo
    from portal_crawler.spiders.portal import PortalSpider

    spider = PortalSpider(start_url="http://127.0.0.1:9/news-and-events.html")
    first, second = (
        spider._request(UrlInfo("article", f"http://127.0.0.1:9/news-events/a-t{n}.html", str(n))) for n in (1, 2)
    )
    assert first is not None and second is not None
    assert first.callback is second.callback and first.errback is second.errback
    misc.is_generator_with_return_value(first.callback)  # what Scrapy runs before each callback
    del first
    gc.collect()
    assert second.callback in misc._generator_callbacks_cache  # the answer outlives the request that asked


def test_the_writer_process_starts_without_scrapy_and_the_page_readers() -> None:
    """A night with nothing new never reads an article page: the writer does not wait for their imports."""
    import subprocess
    import sys

    code = (
        "import sys, portal_crawler.writer.loop; "
        "print(' '.join(m for m in ('scrapy', 'portal_crawler.catalogue.ingest') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
