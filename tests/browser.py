"""A real browser for tests: Debian's Chromium driven by Python playwright, and a static file server on loopback.

Playwright's own browsers are never downloaded: the tests launch the
distribution's `/usr/bin/chromium` (installed here with apt-get when it is
missing and we may, else the test is skipped with the reason). Tests import
what they need, `from browser import chromium, StaticServer`, and use it like
this (any test: ReplayWeb.page over a WACZ, pywb's app pages):

    with StaticServer(directory) as site, chromium() as browser:
        page = browser.new_page()
        page.goto(site.url("index.html"))

The server answers HTTP Range requests: ReplayWeb.page reads a WACZ by ranges
(the WACZ spec requires it of a publishing server), and Python's
`http.server` does not. It binds 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]  # --no-sandbox: tests may run as root
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_install_attempted: list[str] = []  # apt-get is tried once per test session


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing and we are root with apt; else the test is skipped."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        pytest.skip(
            f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get): apt install chromium"
        )
    if not _install_attempted:
        _install_attempted.append(_apt_install(apt))
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing and 'apt-get install -y chromium' did not provide it: {_install_attempted[0]}"
        )
    return CHROMIUM


def _apt_install(apt: str) -> str:
    """apt-get install -y chromium, with apt-get update first when the package is unknown; the last output line."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    known = subprocess.run(["apt-cache", "policy", "chromium"], capture_output=True, text=True, env=env)
    if "Candidate: (none)" in known.stdout or not known.stdout.strip():
        subprocess.run([apt, "update"], capture_output=True, text=True, env=env, timeout=600)
    done = subprocess.run([apt, "install", "-y", "chromium"], capture_output=True, text=True, env=env, timeout=1200)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[-1] if lines else f"exit {done.returncode}"


@contextlib.contextmanager
def chromium(**launch: Any) -> Iterator[Any]:
    """A headless playwright Browser on Debian's chromium (skips the test when playwright or chromium is missing)."""
    path = ensure_chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [test] extra")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(path), headless=True, args=[*LAUNCH_ARGS, *launch.pop("args", [])], **launch
        )
        try:
            yield browser
        finally:
            browser.close()


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """Static files with `Range: bytes=A-B` answered 206 (one range), quietly (no log lines on stderr)."""

    def send_head(self) -> Any:
        wanted = _RANGE.match(self.headers.get("Range", "").strip())
        path = Path(self.translate_path(self.path))
        if wanted is None or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first, last = wanted.groups()
        start = int(first) if first else max(0, size - int(last or 0))
        end = min(int(last), size - 1) if first and last else size - 1
        if start >= size or start > end:
            self.send_error(416, "Requested Range Not Satisfiable")
            return None
        handle = open(path, "rb")  # noqa: SIM115 (closed by copyfile's caller, as in the base class)
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return handle

    def copyfile(self, source: Any, outputfile: Any) -> None:
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        while remaining > 0:
            chunk = source.read(min(remaining, 1 << 16))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)
        self._remaining = None

    def end_headers(self) -> None:
        if not self.headers.get("Range"):
            self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer:
    """`directory` served on 127.0.0.1 at a free port, in a thread, for the length of a `with` block."""

    def __init__(self, directory: Path) -> None:
        handler = partial(RangeRequestHandler, directory=str(directory))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path.lstrip('/')}"

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
