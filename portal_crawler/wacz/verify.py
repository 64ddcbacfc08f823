"""`verify_wacz`: does a package hold what its manifest says, and does its index point at its records?

Checks, each problem one line: datapackage.json is there, is JSON and has
the 1.1.1 fields; every entry but the two manifests is a listed resource, and
every resource is an entry with its SHA-256 and size; datapackage-digest.json
holds datapackage.json's hash; WARC files and ZipNum blocks are stored, not
compressed; pages/pages.jsonl starts with a json-pages-1.0 header and each
line has a url and a ts; and every index line names a WARC file of the
package, where a whole gzip member at its offset, of its length, is a WARC
record of its URL and timestamp. These are py-wacz's `wacz validate` checks
(hashes, listing, digest) and the index's pointers, which it does not check.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal_crawler.wacz.layout import (
    ARCHIVE_DIR,
    DATAPACKAGE,
    DIGEST,
    HASH,
    PAGES,
    PROFILE,
    WACZ_VERSION,
    ZIPNUM_INDEX,
)
from portal_crawler.wacz.pointers import PointedRecords
from portal_crawler.wacz.zipped import index_lines, open_package

MAX_PROBLEMS = 100  # past this many, the rest are counted, not listed
CHUNK = 1 << 20


@dataclass
class WaczCheck:
    """What `verify_wacz` found."""

    path: Path
    resources: int = 0
    index_lines: int = 0
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    unlisted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{self.path}: {text}")
        else:
            self.unlisted += 1

    def line(self) -> str:
        verdict = "ok" if self.ok else f"{len(self.problems) + self.unlisted} problems"
        return (
            f"wacz: {self.path}: {self.resources} resources, {self.index_lines} index lines,"
            f" {self.pages} pages: {verdict}"
        )


def verify_wacz(path: Path) -> WaczCheck:
    """Every check of the module docstring, on the package at `path` (a ZIP that cannot be read is a WaczProblem)."""
    check = WaczCheck(Path(path))
    with open_package(check.path) as package:
        manifest = _manifest(package, check)
        if manifest is not None:
            _resources(package, manifest, check)
            _digest(package, check)
        _compression(package, check)
        _pages(package, check)
        _index(package, check)
    return check


def _manifest(package: zipfile.ZipFile, check: WaczCheck) -> dict[str, Any] | None:
    try:
        manifest = json.loads(package.read(DATAPACKAGE))
    except KeyError:
        check.problem(f"no {DATAPACKAGE}")
        return None
    except (ValueError, zipfile.BadZipFile, zlib.error) as error:
        check.problem(f"{DATAPACKAGE} is not readable JSON ({error})")
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("resources"), list):
        check.problem(f"{DATAPACKAGE} has no list of resources")
        return None
    for key, wanted in (("profile", PROFILE), ("wacz_version", WACZ_VERSION)):
        if manifest.get(key) != wanted:
            check.problem(f"{DATAPACKAGE}: {key} is {manifest.get(key)!r}, not {wanted!r}")
    return manifest


def _hash(package: zipfile.ZipFile, name: str) -> tuple[str, int]:
    """(`sha256:…`, size) of an entry's bytes; raises BadZipFile when they fail the ZIP's own CRC."""
    hasher, size = hashlib.new(HASH), 0
    with package.open(name) as entry:
        while chunk := entry.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return f"{HASH}:{hasher.hexdigest()}", size


def _resources(package: zipfile.ZipFile, manifest: dict[str, Any], check: WaczCheck) -> None:
    listed = {str(r.get("path")): r for r in manifest["resources"] if isinstance(r, dict)}
    names = set(package.namelist())
    for name in sorted(names - set(listed) - {DATAPACKAGE, DIGEST}):
        check.problem(f"{name} is not listed in {DATAPACKAGE}")
    for name, listing in listed.items():
        if name not in names:
            check.problem(f"{DATAPACKAGE} lists {name}, which the package does not hold")
            continue
        try:
            digest, size = _hash(package, name)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            check.problem(f"{name}: unreadable ({error})")
            continue
        if digest != listing.get("hash"):
            check.problem(f"{name}: hash {digest}, but {DATAPACKAGE} says {listing.get('hash')}")
        if size != listing.get("bytes"):
            check.problem(f"{name}: {size} bytes, but {DATAPACKAGE} says {listing.get('bytes')}")
        check.resources += 1


def _digest(package: zipfile.ZipFile, check: WaczCheck) -> None:
    try:
        digest = json.loads(package.read(DIGEST))
    except KeyError:
        check.problem(f"no {DIGEST}")
        return
    except (ValueError, zipfile.BadZipFile, zlib.error) as error:
        check.problem(f"{DIGEST} is not readable JSON ({error})")
        return
    wanted = f"{HASH}:{hashlib.new(HASH, package.read(DATAPACKAGE)).hexdigest()}"
    if not isinstance(digest, dict) or digest.get("path") != DATAPACKAGE or digest.get("hash") != wanted:
        check.problem(f"{DIGEST} does not hold {DATAPACKAGE}'s hash ({wanted})")


def _compression(package: zipfile.ZipFile, check: WaczCheck) -> None:
    for info in package.infolist():
        must_store = info.filename.startswith(ARCHIVE_DIR) or info.filename == ZIPNUM_INDEX
        if must_store and info.compress_type != zipfile.ZIP_STORED:
            check.problem(f"{info.filename} is compressed in the ZIP: it must be stored, for reading by range")


def _pages(package: zipfile.ZipFile, check: WaczCheck) -> None:
    if PAGES not in package.namelist():
        check.problem(f"no {PAGES}")
        return
    with package.open(PAGES) as entry:
        for number, raw in enumerate(entry, start=1):
            try:
                line = json.loads(raw)
            except ValueError:
                check.problem(f"{PAGES} line {number} is not JSON")
                continue
            if number == 1 and (not isinstance(line, dict) or line.get("format") != "json-pages-1.0"):
                check.problem(f"{PAGES} does not start with a json-pages-1.0 header")
            elif number > 1 and not (isinstance(line, dict) and line.get("url") and line.get("ts")):
                check.problem(f"{PAGES} line {number} has no url or no ts")
            elif number > 1:
                check.pages += 1


def _index(package: zipfile.ZipFile, check: WaczCheck) -> None:
    with open(check.path, "rb") as raw:
        records = PointedRecords(package, raw)
        for line in index_lines(package):
            check.index_lines += 1
            problem = records.problem(line)
            if problem:
                check.problem(problem)
    if check.index_lines == 0:
        check.problem("the index holds no lines (or the package has no indexes/index.cdx or index.cdx.gz)")
