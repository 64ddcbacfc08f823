"""Replay: the archive as a wayback, one pywb collection `mps` over the original WARC files.

Layout, all under the archive directory (nothing is copied into a pywb `collections/`):

    warc/*.warc.gz                      the captures, read in place by pywb (archive_paths)
    replay/indexes/by-file/<warc>.cdxj  one sorted CDXJ index per WARC file (cdxj-indexer)
    replay/indexes/manifest.json        name -> size and mtime of each WARC file when indexed
    replay/indexes/index.cdxj           all of the above merged and sorted: what pywb reads
    replay/config.yaml                  the pywb configuration, rewritten at every start
    replay/rules.yaml                   pywb's fuzzy rules with the JSON API's in front (`replay_rules.py`)

Revisit records are indexed like responses (mime `warc/revisit`); pywb resolves them by
payload digest to the original, wherever in the merged index it lies.

`replay --wacz FILE` serves WACZ packages instead, in place: their own indexes, rewritten to
point into the .wacz files (`wacz.replay_index`), and the config, in a temporary directory.

pywb is imported only inside `make_app`: its import monkey-patches the process for gevent
and emits DeprecationWarnings (the `cgi` module), so importing this module costs nothing.
"""

from __future__ import annotations

import heapq
import io
import json
import logging
import os
import signal
import sys
import tempfile
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_crawler.core.errors import UsageProblem
from portal_crawler.core.paths import ArchivePaths
from portal_crawler.upkeep.replay_rules import write_rules
from portal_crawler.warc.reader import scan_file

COLLECTION = "mps"
WARC_GLOB = "*.warc.gz"

WsgiApp = Callable[..., Any]
log = logging.getLogger(__name__)


class ReplayError(UsageProblem):
    """The archive cannot be replayed; the message says why in one line."""


@dataclass(frozen=True)
class ReplayPaths:
    """Where replay reads and writes, for one archive directory (see the module docstring)."""

    archive: Path
    warc_dir: Path
    replay_dir: Path
    per_file_dir: Path
    manifest: Path
    merged_index: Path
    config: Path

    @classmethod
    def of(cls, archive_dir: Path) -> ReplayPaths:
        paths = ArchivePaths(Path(archive_dir).resolve())
        replay, indexes = paths.replay, paths.replay / "indexes"
        return cls(
            archive=paths.root,
            warc_dir=paths.warc,
            replay_dir=replay,
            per_file_dir=indexes / "by-file",
            manifest=indexes / "manifest.json",
            merged_index=indexes / "index.cdxj",
            config=replay / "config.yaml",
        )


def warc_files(archive_dir: Path) -> list[Path]:
    """The archive's WARC files by name; ReplayError when there is nothing to replay."""
    paths = ReplayPaths.of(archive_dir)
    if not paths.archive.is_dir():
        raise ReplayError(f"no archive at {paths.archive}: crawl first or give --archive DIR")
    files = sorted(paths.warc_dir.glob(WARC_GLOB))
    if not files:
        raise ReplayError(f"nothing to replay: no {WARC_GLOB} files in {paths.warc_dir}")
    return files


def update_index(archive_dir: Path) -> Path:
    """Index new or changed WARC files, drop indexes of vanished ones, merge; return the index."""
    files = warc_files(archive_dir)
    paths = ReplayPaths.of(archive_dir)
    paths.per_file_dir.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(paths.manifest)
    current = {path.name: _file_key(path) for path in files}
    changed = False
    for path in files:
        part = paths.per_file_dir / f"{path.name}.cdxj"
        if manifest.get(path.name) != current[path.name] or not part.exists():
            _index_file(path, part)
            changed = True
    for name in set(manifest) - set(current):
        (paths.per_file_dir / f"{name}.cdxj").unlink(missing_ok=True)
        changed = True
    if changed or not paths.merged_index.exists():
        parts = [paths.per_file_dir / f"{path.name}.cdxj" for path in files]
        _merge(parts, paths.merged_index)
        _write_atomically(paths.manifest, json.dumps(current, indent=1, sort_keys=True) + "\n")
    return paths.merged_index


def _file_key(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _load_manifest(path: Path) -> dict[str, dict[str, int]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no manifest or an unreadable one: everything is indexed again


def _index_file(warc: Path, part: Path) -> None:
    """One sorted CDXJ file for one WARC file, over its whole, replayable records only.

    cdxj-indexer alone may index a record cut short by a crash (or by a crawl still
    writing the file) with a wrong length, so the file is scanned first and indexed up
    to the end of its last whole record; the rest is left out with a warning.
    """
    from cdxj_indexer.main import CDXJIndexer
    from warcio.limitreader import LimitReader

    scan = scan_file(warc)
    if scan.problems:
        hint = "`portal-crawler verify --repair` truncates it" if scan.torn else "see `portal-crawler verify`"
        log.warning(
            "replay: %s; replaying only the records before offset %d (%s)", scan.problems[0], scan.good_end, hint
        )
    lines = io.StringIO()
    try:
        with open(warc, "rb") as raw:
            CDXJIndexer(lines, [LimitReader(raw, scan.good_end)], sort=True, filename=warc.name).process_all()
    except Exception as error:  # warcio and zlib raise several unrelated types
        raise ReplayError(f"cannot index {warc}: {error} (try `portal-crawler verify`)") from None
    kept = [line for line in lines.getvalue().splitlines(keepends=True) if not _not_modified(line)]
    _write_atomically(part, "".join(kept))


def _not_modified(line: str) -> bool:
    """A server-not-modified revisit: pywb would replay its 304 and an empty page.

    Left out, the page at that time replays from the nearest capture that holds the
    (unchanged) payload; the catalogue still lists the recheck.
    """
    fields = json.loads(line.split(" ", 2)[2])
    return fields.get("mime") == "warc/revisit" and fields.get("status") == "304"


def _merge(parts: list[Path], merged: Path) -> None:
    """Merge sorted per-file indexes into one sorted index, replaced atomically."""
    temporary = merged.with_name(merged.name + ".tmp")
    with ExitStack() as stack:
        inputs = [stack.enter_context(open(part, encoding="utf-8")) for part in parts]
        with open(temporary, "w", encoding="utf-8") as out:
            out.writelines(heapq.merge(*inputs))
    os.replace(temporary, merged)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def count_captures(index: Path) -> int:
    with open(index, encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


def write_config(archive_dir: Path) -> Path:
    """pywb's config.yaml: collection `mps` over warc/ in place and the merged index."""
    paths = ReplayPaths.of(archive_dir)
    paths.replay_dir.mkdir(parents=True, exist_ok=True)
    text = _config_text(paths.merged_index, [paths.warc_dir])
    rules = write_rules(paths.archive, paths.replay_dir / "rules.yaml")
    if rules is not None:  # the archive holds JSON API answers: cache-busted API calls must find them
        text += f"rules_file: {json.dumps(str(rules))}\n"
    _write_atomically(paths.config, text)
    return paths.config


def _config_text(index: Path, archive_dirs: list[Path]) -> str:
    quoted = json.dumps  # a JSON string (or list) is YAML: paths with spaces or colons stay whole
    dirs = [str(d) + os.sep for d in archive_dirs]
    return (
        "# Written by `portal-crawler replay` at every start: edits here are lost.\n"
        "enable_auto_colls: false\n"
        "framed_replay: false\n"
        "collections:\n"
        f"  {COLLECTION}:\n"
        f"    index_paths: {quoted(str(index))}\n"
        f"    archive_paths: {quoted(dirs if len(dirs) > 1 else dirs[0])}\n"
    )


def wacz_config(waczs: list[Path], state: Path) -> tuple[Path, Path]:
    """(config, index) for pywb over WACZ files in place (`replay --wacz`), written into `state`."""
    from portal_crawler.wacz.replay_index import write_replay_index

    index = state / "index.cdxj"
    config = state / "config.yaml"
    _write_atomically(config, _config_text(index, write_replay_index(waczs, index)))
    return config, index


def make_app(archive_dir: Path, config: Path | None = None) -> WsgiApp:
    """Index, write the config (unless one is given) and return pywb's FrontEndApp for it (a WSGI app).

    Importing pywb monkey-patches this process for gevent: call it in the process that serves.
    """
    if config is None:
        update_index(archive_dir)
        config = write_config(archive_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cgi DeprecationWarning; gevent MonkeyPatchWarning
        from pywb.apps.frontendapp import FrontEndApp
    return FrontEndApp(config_file=str(config))


def serve(archive_dir: Path, port: int = 8090, host: str = "127.0.0.1", waczs: list[Path] | None = None) -> None:
    """Serve the archive (or the WACZ files `waczs`, read in place) with pywb's gevent server until stopped."""
    with tempfile.TemporaryDirectory(prefix="portal-replay-") as state:
        config, index = wacz_config(waczs, Path(state)) if waczs else (None, ReplayPaths.of(archive_dir).merged_index)
        app = make_app(archive_dir, config)
        import gevent

        server = _listen(app, host, port)
        print(f"replay: http://{host}:{server.address[1]}/{COLLECTION}/ ({count_captures(index)} captures)", flush=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            gevent.signal_handler(signum, server.stop)
        server.serve_forever()


def _listen(app: WsgiApp, host: str, port: int) -> Any:
    """A gevent WSGIServer bound to host:port (0: any free port), not yet serving."""
    from gevent.pywsgi import WSGIServer
    from pywb.utils.geventserver import RequestURIWSGIHandler

    server = WSGIServer((host, port), app, handler_class=RequestURIWSGIHandler)
    try:
        server.init_socket()
    except OSError as error:  # gevent adds the address to strerror: say it once
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise ReplayError(f"cannot listen on {host}:{port}: {reason}: give another --port") from None
    return server


def main(argv: list[str]) -> int:
    """`python -m portal_crawler.upkeep.replay ARCHIVE [PORT]`: what the CLI command does."""
    if not 1 <= len(argv) <= 2:
        print("usage: python -m portal_crawler.upkeep.replay ARCHIVE [PORT]", file=sys.stderr)
        return 2
    try:
        serve(Path(argv[0]), int(argv[1]) if len(argv) == 2 else 8090)
    except ReplayError as error:
        print(f"replay: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
