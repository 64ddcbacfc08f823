"""The package as a ZIP written while it is built: under a temporary name beside the output, renamed when complete.

Each entry is streamed into the ZIP (zipfile's write handles, which patch the
local header's sizes and CRC afterwards, so nothing is held in memory) while
its SHA-256 and size are taken on the way, for `datapackage.json`. The
temporary file is new (O_EXCL), fsynced before the rename, and removed
whatever else happens, so a failed or interrupted build leaves nothing under
the output name and no stray file beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from portal_crawler.core.times import utc_now
from portal_crawler.wacz.layout import DATAPACKAGE, DIGEST, HASH, WaczProblem

COPY_CHUNK = 1 << 20


class Sink:
    """A write handle into one entry that hashes and counts what passes through."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.hasher, self.size = raw, hashlib.new(HASH), 0

    def write(self, data: bytes) -> int:
        self.raw.write(data)
        self.hasher.update(data)
        self.size += len(data)
        return len(data)

    def digest(self) -> str:
        return f"{HASH}:{self.hasher.hexdigest()}"


def resource(path: str, sink: Sink) -> dict[str, Any]:
    """A datapackage `resources` entry (py-wacz's shape: name, path, hash, bytes)."""
    return {"name": Path(path).name.lower(), "path": path, "hash": sink.digest(), "bytes": sink.size}


def check_output(output: Path, force: bool) -> None:
    """Refuse, before any work, an output that cannot or must not be written."""
    if output.is_dir():
        raise WaczProblem(f"--output {output} is a directory: give a file name, e.g. {output / 'archive.wacz'}")
    if output.suffix != ".wacz":
        raise WaczProblem(f"--output {output}: a WACZ file's name must end in .wacz")
    if not output.parent.is_dir():
        raise WaczProblem(f"cannot write --output {output}: directory {output.parent} does not exist (create it first)")
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise WaczProblem(f"cannot write --output {output}: directory {output.parent} is not writable")
    if not force and (output.exists() or output.is_symlink()):
        raise WaczProblem(f"--output {output} exists: pass --force to replace it, or give another name")


class PackageWriter:
    """`with PackageWriter(output) as package:` add entries, then `finish(metadata)`; else nothing is published."""

    def __init__(self, output: Path, force: bool = False) -> None:
        self.output, self.force = Path(output), force
        self.resources: list[dict[str, Any]] = []
        self.partial = self.output.with_name(f".{self.output.name}.{secrets.token_hex(4)}.partial")

    def __enter__(self) -> PackageWriter:
        fd = os.open(self.partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        self.file = os.fdopen(fd, "w+b")
        self.zip = zipfile.ZipFile(self.file, "w", allowZip64=True)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, ValueError):  # a write handle left open by a failure: the file goes anyway
            self.zip.close()
        self.file.close()
        self.partial.unlink(missing_ok=True)

    @contextmanager
    def entry(self, path: str, *, stored: bool, size_bound: int = 0) -> Iterator[Sink]:
        """A streamed entry; `stored` (never compressed again) for WARC and ZipNum data; ZIP64 above 2 GB."""
        info = zipfile.ZipInfo(path, date_time=utc_now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        large = size_bound * 1.05 > zipfile.ZIP64_LIMIT
        with self.zip.open(info, "w", force_zip64=large) as raw:
            sink = Sink(raw)
            yield sink
        self.resources.append(resource(path, sink))

    def add_file(self, path: str, source: Path, *, stored: bool) -> None:
        """A file copied in as it is (a whole WARC file, or a scratch index)."""
        with open(source, "rb") as fh, self.entry(path, stored=stored, size_bound=os.fstat(fh.fileno()).st_size) as out:
            while chunk := fh.read(COPY_CHUNK):
                out.write(chunk)

    def add_lines(self, path: str, lines: Iterator[str]) -> int:
        """A text entry (UTF-8, deflated) from lines; how many were written."""
        count = 0
        with self.entry(path, stored=False) as out:
            for line in lines:
                out.write(line.encode("utf-8"))
                count += 1
        return count

    def finish(self, metadata: dict[str, Any]) -> None:
        """datapackage.json (metadata and every resource), its digest, then the rename that publishes the file."""
        package = json.dumps({**metadata, "resources": self.resources}, indent=2, ensure_ascii=False).encode()
        digest = hashlib.new(HASH, package).hexdigest()
        for name, data in ((DATAPACKAGE, package), (DIGEST, _digest_json(digest))):
            info = zipfile.ZipInfo(name, date_time=utc_now().timetuple()[:6])
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            self.zip.writestr(info, data)
        self.zip.close()
        self.file.flush()
        os.fsync(self.file.fileno())
        self._publish()

    def _publish(self) -> None:
        """Rename into place; without `force`, a file that appeared meanwhile is kept (a hard link never overwrites)."""
        if self.force:
            os.replace(self.partial, self.output)
            return
        try:
            os.link(self.partial, self.output)
        except FileExistsError:
            raise WaczProblem(f"--output {self.output} appeared while packaging: pass --force to replace it") from None
        except OSError:  # a file system without hard links
            if self.output.exists():
                raise WaczProblem(f"--output {self.output} appeared while packaging: pass --force") from None
            os.replace(self.partial, self.output)


def _digest_json(digest: str) -> bytes:
    return json.dumps({"path": DATAPACKAGE, "hash": f"{HASH}:{digest}"}, indent=2).encode()
