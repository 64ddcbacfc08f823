"""What the serving commands (`replay`, `browse`, `replica`) share: their extra installed, a port to listen on.

A plain `pip install .` leaves out pywb and Datasette (the `replay` and `browse`
extras): the command says which extra to install, in one line, exit 2, rather
than a traceback from deep inside. A port in use is the same line, exit 2, for
every command, checked before any work (replay indexes the archive first).
"""

from __future__ import annotations

import errno
import importlib
import os
import socket
import warnings

from portal_crawler.cli.errors import PROG
from portal_crawler.core.errors import UsageProblem

LISTEN_HINTS = {
    errno.EADDRINUSE: "give another --port",
    errno.EACCES: "give a port above 1023, or another --port",
    errno.EADDRNOTAVAIL: "give an address of this machine as --host",
}


def require_extra(command: str, extra: str, *modules: str) -> None:
    """Import each module the command needs; the first that is missing names the extra to install."""
    for module in modules:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pywb's and Datasette's imports warn about their own dependencies
                importlib.import_module(module)
        except ImportError:
            raise UsageProblem(f"{command} needs {module}: pip install '{PROG}[{extra}]'") from None


def cannot_listen(host: str, port: int, error: OSError) -> UsageProblem:
    """The one line for an address that cannot be listened on: what, why, what to do."""
    reason = os.strerror(error.errno) if error.errno else str(error)
    hint = LISTEN_HINTS.get(error.errno or 0, "give another --port")
    return UsageProblem(f"cannot listen on {host}:{port}: {reason}: {hint}")


def check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on, before the command starts its work (0: any free port).

    SO_REUSEADDR as the servers themselves set it (http.server, gevent,
    uvicorn): a port left in TIME_WAIT is free, one with a listener is not.
    """
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise cannot_listen(host, port, error) from None
