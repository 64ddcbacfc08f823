"""The replica's HTTP/1.1 server: keep-alive, counts, faults, controls.

Built on ``http.server.ThreadingHTTPServer`` (one thread per connection).
Each answer goes out in a single ``sendall`` with ``TCP_NODELAY`` set, and
pages come from the site's cache, so a keep-alive client is never held up
by Nagle's algorithm or by rendering twice.

Controls (not counted): ``GET /_replica/counts`` (JSON ``{target: n}``),
``GET /_replica/articles`` (JSON list of ``{id, url, title, published}``, and
``articleId`` in the app layout),
``POST /_replica/reset`` (zero the counts), ``POST /_replica/control`` with
a JSON body ``{"add": 15}``, ``{"edit": "t6294"}``, ``{"delete": "t6294"}``
``{"faults": {...}}`` or ``{"drift": "neutral"}`` / ``{"drift": {"variant":
"challenge", "challenge_first": 5}}`` / ``{"drift": null}`` (several keys may
be combined).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from portal_crawler.replica.responses import Response, accepts_gzip, not_modified
from portal_crawler.replica.variants import malformed


class ServedPortal(Protocol):
    """What the server needs of the replica (its API, replica.py), so neither module imports the other."""

    server_name: str
    faults: Any
    site: Any
    stopping: threading.Event

    def count(self, target: str) -> None: ...

    def control(self, method: str, path: str, raw: bytes) -> tuple[int, object]: ...

    def cookies(self) -> list[str]: ...


CONTROL_PREFIX = "/_replica/"
CHUNK = 8192


class ReplicaServer(ThreadingHTTPServer):
    """Threads per connection; remembers open connections so ``stop`` can end them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], replica: ServedPortal) -> None:
        super().__init__(address, ReplicaHandler)
        self.replica = replica
        self.connections: set[socket.socket] = set()
        self.threads: set[threading.Thread] = set()
        self.lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True, name="replica-connection"
        )
        with self.lock:
            self.connections.add(request)
            self.threads.add(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.connections.discard(request)
            self.threads.discard(threading.current_thread())
        super().shutdown_request(request)

    def close_connections(self, timeout: float = 2.0) -> None:
        """End every open keep-alive connection and wait for its thread."""
        with self.lock:
            connections, threads = list(self.connections), list(self.threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer are normal; stay quiet about them."""


class ReplicaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ReplicaServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        """No per-request logging."""

    def do_GET(self) -> None:
        self.answer(head=False)

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def do_POST(self) -> None:
        if not self.path.startswith(CONTROL_PREFIX):
            self.send(Response(405, b"Method Not Allowed", "text/plain"), head=False)
            return
        self.control()

    def answer(self, head: bool) -> None:
        if self.path.startswith(CONTROL_PREFIX):
            self.control()
            return
        replica = self.server.replica
        replica.count(self.path)
        wall = replica.site.gate.answer(self.path)  # the bot wall stands in front of the portal and its faults
        if wall is not None:
            self.send(wall, head)
            return
        plan = replica.faults.plan(self.path)
        if plan.delay and replica.stopping.wait(plan.delay):
            self.close_connection = True
            return
        if plan.status:
            retry = [("Retry-After", str(plan.retry_after))] if plan.retry_after else []
            self.send(Response(plan.status, f"{plan.status} error\n".encode(), "text/plain", retry), head)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = replica.site.respond(self.path, headers)
        if plan.malformed and response.content_type.startswith("text/html"):
            response = Response(
                response.status,
                malformed(response.body),
                response.content_type,
                list(response.headers),
                cookies=response.cookies,
            )
        if response.status == 200 and not_modified(
            response, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        ):
            response = Response(304, b"", response.content_type, list(response.headers), compressible=False)
        self.send(response, head, chunked=plan.chunked, cut=plan.cut)

    def control(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            status, payload = self.server.replica.control(self.command, self.path, raw)
        except (ValueError, KeyError, TypeError) as error:
            status, payload = 400, {"error": str(error)}
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send(Response(status, body, "application/json", compressible=False), head=False)

    def head_lines(self, response: Response, body: bytes, gzipped: bool, chunked: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {response.status} {response.reason}",
            f"Date: {formatdate(usegmt=True)}",
            f"Server: {response.server or self.server.replica.server_name}",
        ]
        if response.status != 304:
            lines.append(f"Content-Type: {response.content_type}")
        lines += [f"{name}: {value}" for name, value in response.headers]
        if response.cookies:
            lines += [f"Set-Cookie: {cookie}" for cookie in self.server.replica.cookies()]
        if gzipped:
            lines.append("Content-Encoding: gzip")
        if response.compressible:
            lines.append("Vary: Accept-Encoding")
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        elif response.status != 304:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, response: Response, head: bool, chunked: bool = False, cut: bool = False) -> None:
        gzipped = response.compressible and response.status == 200 and accepts_gzip(self.headers.get("Accept-Encoding"))
        body = response.gzipped() if gzipped else response.body
        chunked = chunked and response.status != 304
        data = self.head_lines(response, body, gzipped, chunked)
        if head or response.status == 304:
            pass
        elif cut:
            data += body[: len(body) // 2]
            self.close_connection = True
        elif chunked:
            data += (
                b"".join(
                    b"%x\r\n%s\r\n" % (len(body[i : i + CHUNK]), body[i : i + CHUNK])
                    for i in range(0, len(body), CHUNK)
                )
                + b"0\r\n\r\n"
            )
        else:
            data += body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True
