"""Bad input to every command: exactly one line on stderr, no traceback, the documented exit code, no harm done.

One small archive is crawled from the replica once for the module. A case
that only reads uses it as it is (and its files must be unchanged after); a
case that could write gets a copy of its own. Either way `verify` passes on
the archive afterwards; a case naming a directory that does not exist must not
create it. Cases run in-process with click's CliRunner, through the same
`PortalGroup.main` as the real command; a few run as `python -m portal_crawler`
to prove the entry point.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal_crawler.cli import cli
from portal_crawler.core.lock import ArchiveLock
from portal_crawler.replica import Replica, ReplicaConfig
from portal_crawler.upkeep.verify import verify_archive

pytestmark = pytest.mark.slow

NOWHERE = (
    "http://127.0.0.1:9/news-and-events.html"  # the discard port: a crawl that got past its checks fetches nothing
)
BIG = str(10**23)
BUSY = "cannot listen on 127.0.0.1:{busy_port}: Address already in use: give another --port"  # every serving command


@dataclass(frozen=True)
class Case:
    """argv with placeholders (see `Places`); `uses`: 'archive' (read only), 'copy' (may write) or 'none'."""

    argv: tuple[str, ...]
    code: int
    message: str
    uses: str = "none"
    locked: bool = False
    process: bool = False

    def __str__(self) -> str:
        return " ".join(self.argv)[:80]


def c(*argv: str, code: int = 2, says: str, uses: str = "none", locked: bool = False, process: bool = False) -> Case:
    return Case(argv, code, says, uses, locked, process)


CRAWL = [
    c("crawl", "--archive", "{missing}", "--start-url", "http://[::1/x", says="Invalid IPv6 URL"),
    c("crawl", "--archive", "{missing}", "--start-url", "http://[::1/x", says="Invalid IPv6 URL", process=True),
    c("crawl", "--archive", "{missing}", "--start-url", "http://user:pw@127.0.0.1:9/", says="user name or password"),
    c("crawl", "--archive", "{missing}", "--start-url", "http://127.0.0.1:99999/", says="Port out of range"),
    c("crawl", "--archive", "{missing}", "--start-url", "http://127.0.0.1:abc/", says="could not be cast to integer"),
    c("crawl", "--archive", "{missing}", "--start-url", "not a url", says="absolute http(s) URL"),
    c("crawl", "--archive", "{missing}", "--start-url", "ftp://127.0.0.1/x", says="absolute http(s) URL"),
    c("crawl", "--archive", "{missing}", "--start-url", "http:///news.html", says="absolute http(s) URL"),
    c("crawl", "--archive", "{missing}", "--start-url", "http://127.0.0.1:9/\udcff", says="is not UTF-8 text"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--profile", "nosuchportal", says="no such profile"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--profile", "{latin1_profile}", says="not UTF-8"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--profile", "{regex_profile}", says="bad regex"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--profile", "{tmp}", says="cannot read profile"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "DOWNLOAD_TIMEOUT=abc", says="a whole number"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "DOWNLOAD_DELAY=fast", says="takes a number"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "ROBOTSTXT_OBEY=maybe", says="true or false"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "RETRY_HTTP_CODES=5xx", says="whole numbers"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "EXTENSIONS=[1]", says="a JSON object"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "DOWNLOAD_MAXSIZE=" + BIG, says="beyond"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "lowercase=1", says="upper-case"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "-s", "NOVALUE", says="NAME=VALUE"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--max-pages", "0", says="--max-pages"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--max-pages", BIG, says="--max-pages"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--recheck-days", "9999999999", says="0<=x<=36500"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--recheck-days", "-1", says="--recheck-days"),
    c("crawl", "--archive", "{missing}", "--start-url", NOWHERE, "--warc-max-size", "1GB", says="--warc-max-size"),
    c("crawl", "--archive", "{missing}", "--bogus", says="No such option"),
    c("crawl", "--archive", "/proc/x", "--start-url", NOWHERE, says="cannot use --archive /proc/x"),
    c("crawl", "--archive", "{a_file}", "--start-url", NOWHERE, says="is a file"),
    c("crawl", "--archive", "{not_sqlite}", "--start-url", NOWHERE, says="not a usable SQLite catalogue"),
    c("crawl", "--archive", "{foreign}", "--start-url", NOWHERE, says="not a usable SQLite catalogue"),
    c(
        "crawl",
        "--archive",
        "{copy}",
        "--start-url",
        NOWHERE,
        code=75,
        says="another run holds",
        uses="copy",
        locked=True,
    ),
]
REPLICA = [
    c("replica", "--port", "99999", says="0<=x<=65535"),
    c("replica", "--port", "abc", says="'abc' is not a valid integer"),
    c("replica", "--host", "nohost", says="not an IP address"),
    c("replica", "--layout", "modern", says="'modern' is not one of"),
    c("replica", "--articles", "-1", says="--articles"),
    c("replica", "--layout", "app", "--drift", "neutral", says="does not apply to the app layout"),
    c("crawl", "--source", "rss", says="'rss' is not one of"),
    c("crawl", "--api-base", "api.example", says="give an absolute http(s) URL"),
    c("replica", "--articles", BIG, says="--articles"),
    c("replica", "--port", "{busy_port}", says=BUSY, process=True),
    c("replica", "--port", "{busy_port}", "--layout", "app", says=BUSY),
]
DEMO = [
    c("demo", "--archive", "/proc/x", says="cannot use --archive /proc/x"),
    c("demo", "--archive", "{a_file}", says="is a file"),
    c("demo", "--archive", "{missing}", "--articles", "-1", says="--articles"),
    c("demo", "--archive", "{missing}", "--articles", BIG, says="--articles"),
    c("demo", "--archive", "{missing}", "--bogus", says="No such option"),
]
PROBE = [
    c("probe", says="Missing argument 'URL [URL...]'"),
    c("probe", "not a url", says="absolute http(s) URL"),
    c("probe", "http://user:pw@127.0.0.1:9/", says="user name or password"),
    c("probe", "http://127.0.0.1:99999/", says="Port out of range"),
    c("probe", NOWHERE, "--articles", "-1", says="--articles"),
    c("probe", NOWHERE, "--profile", "nosuchportal", says="no such profile"),
    c("probe", NOWHERE, code=1, says=f"{NOWHERE}: cannot fetch: connection refused", process=True),
]
SHOW = [
    c("show", "t0", "--archive", "{archive}", says="no article 't0'", uses="archive"),
    c("show", "t0", "--archive", "{archive}", says="no article 't0'", uses="archive", process=True),
    c("show", "{article}", "--version", "9", "--archive", "{archive}", says="has versions 1 to", uses="archive"),
    c("show", "{article}", "--version", "0", "--archive", "{archive}", says="--version", uses="archive"),
    c("show", "\udcff", "--archive", "{archive}", says="is not UTF-8 text", uses="archive"),
    c("show", "--archive", "{archive}", says="Missing argument 'ARTICLE_ID'", uses="archive"),
    c("show", "t1", "--archive", "{missing}", says="no archive at"),
    c("show", "t1", "--archive", "{not_sqlite}", says="not a usable SQLite catalogue"),
    c("show", "t1", "--archive", "{foreign}", says="not a usable SQLite catalogue"),
]
HISTORY = [
    c("history", "t0", "--archive", "{archive}", says="no article 't0'", uses="archive"),
    c("history", "{article}", "--replay-base", "ftp://x", says="absolute http(s) URL", uses="archive"),
    c("history", "t1", "--archive", "{missing}", says="no archive at"),
    c("diff", "t0", "--archive", "{archive}", says="no article 't0'", uses="archive"),
    c("diff", "{article}", "1", "9", "--archive", "{archive}", says="has versions 1 to", uses="archive"),
    c("diff", "{article}", "0", "--archive", "{archive}", says="'[V1]'", uses="archive"),
    c("diff", "{article}", "1", "2", "3", "--archive", "{archive}", says="unexpected extra argument", uses="archive"),
    c("diff", "t1", "--archive", "{not_sqlite}", says="not a usable SQLite catalogue"),
    c(
        "show",
        "{article}",
        "--article-version",
        "9",
        "--archive",
        "{archive}",
        says="has versions 1 to",
        uses="archive",
    ),
    c("show", "{article}", "--cite", "--replay-base", "http://u:p@h/", says="user name", uses="archive"),
]
VERIFY = [
    c("verify", "--archive", "{missing}", says="no archive at"),
    c("verify", "--archive", "/proc/x", says="no archive at"),
    c("verify", "--archive", "{a_file}", says="is a file"),
    c("verify", "--archive", "{not_sqlite}", says="not a usable SQLite catalogue"),
    c("verify", "--archive", "{archive}", "--bogus", says="No such option", uses="archive"),
    c("verify", "--archive", "{copy}", code=75, says="another run holds", uses="copy", locked=True),
    c("verify", "--archive", "{copy}", code=75, says="another run holds", uses="copy", locked=True, process=True),
]
REINDEX = [
    c("reindex", "--archive", "{missing}", says="no WARC directory"),
    c("reindex", "--archive", "/proc/x", says="no WARC directory"),
    c("reindex", "--warc-dir", "{a_file}", says="is a file"),
    c("reindex", "--archive", "{copy}", "--catalogue", "{tmp}", says="is a directory", uses="copy"),
    c("reindex", "--archive", "{copy}", "--profile", "nosuchportal", says="no such profile", uses="copy"),
    c("reindex", "--archive", "{copy}", "--profile", "{latin1_profile}", says="not UTF-8", uses="copy"),
    c("reindex", "--archive", "{copy}", code=75, says="another run holds", uses="copy", locked=True),
]
REPLAY = [
    c("replay", "--archive", "{missing}", says="no archive at"),
    c("replay", "--archive", "{archive}", "--port", "99999", says="0<=x<=65535", uses="archive"),
    c("replay", "--archive", "{tmp}", "--port", "0", says="nothing to replay"),
    c("replay", "--archive", "{archive}", "--port", "{busy_port}", says=BUSY, uses="archive", process=True),
    c("replay", "--archive", "{archive}", "--port", "{busy_port}", says=BUSY, uses="archive"),
]
SEARCH = [
    c("search", "AND", "--archive", "{archive}", says="AND needs words on both sides", uses="archive"),
    c("search", "drug AND", "--archive", "{archive}", says="double quotes", uses="archive"),
    c("search", '"unbalanced', "--archive", "{archive}", says="double quote is not closed", uses="archive"),
    c("search", "NEAR(drug", "--archive", "{archive}", says="double quotes", uses="archive"),
    c("search", "nosuch:word", "--archive", "{archive}", says="'nosuch' is not a column", uses="archive"),
    c("search", "*", "--archive", "{archive}", says="double quotes", uses="archive"),
    c("search", "don't", "--archive", "{archive}", says="double quotes", uses="archive"),
    c("search", "NEAR(a b, x)", "--archive", "{archive}", says="NEAR", uses="archive"),
    c("search", "", "--archive", "{archive}", says="empty query", uses="archive"),
    c("search", "   ", "--archive", "{archive}", says="empty query", uses="archive"),
    c("search", "caf\udce9", "--archive", "{archive}", says="is not UTF-8 text", uses="archive"),
    c("search", "{long_query}", "--archive", "{archive}", says="at most 1,000 are searched", uses="archive"),
    c("search", "{many_terms}", "--archive", "{archive}", says="at most 64 are searched", uses="archive"),
    c("search", "--archive", "{archive}", says="Missing argument 'QUERY'", uses="archive"),
    c("search", "drug", "--since", "2024-13-01", "--archive", "{archive}", says="YYYY-MM-DD", uses="archive"),
    c("search", "drug", "--until", "24-01-01", "--archive", "{archive}", says="YYYY-MM-DD", uses="archive"),
    c("search", "drug", "--since", "20240101", "--archive", "{archive}", says="YYYY-MM-DD", uses="archive"),
    c(
        "search",
        "drug",
        "--since",
        "2024-05",
        "--until",
        "2024-01-01",
        "--archive",
        "{archive}",
        says="YYYY",
        uses="archive",
    ),
    c(
        "search",
        "drug",
        "--since",
        "2024-05-01",
        "--until",
        "2024-01-01",
        "--archive",
        "{archive}",
        says="swap",
        uses="archive",
    ),
    c("search", "drug", "--author", " ", "--archive", "{archive}", says="--author is empty", uses="archive"),
    c("search", "drug", "--author", "\udcff", "--archive", "{archive}", says="is not UTF-8 text", uses="archive"),
    c("search", "drug", "--limit", "0", "--archive", "{archive}", says="--limit", uses="archive"),
    c("search", "drug", "--limit", "-5", "--archive", "{archive}", says="--limit", uses="archive"),
    c("search", "drug", "--limit", "many", "--archive", "{archive}", says="--limit", uses="archive"),
    c("search", "drug", "--limit", BIG, "--archive", "{archive}", says="1<=x<=10000", uses="archive"),
    c("search", "drug", "--archive", "{missing}", says="no archive at"),
    c("search", "drug", "--archive", "{not_sqlite}", says="not a usable SQLite catalogue"),
    c("search", "drug", "--archive", "{foreign}", says="not a usable SQLite catalogue"),
]
EXPORT = [
    c("export", "--format", "xml", "--archive", "{archive}", says="'xml' is not one of", uses="archive"),
    c("export", "--since", "yesterday", "--archive", "{archive}", says="YYYY-MM-DD", uses="archive"),
    c("export", "--output", "{tmp}/no/dir/a.csv", "--archive", "{archive}", says="does not exist", uses="archive"),
    c("export", "--output", "{tmp}", "--archive", "{archive}", says="is a directory", uses="archive"),
    c("export", "--output", "{a_file}", "--archive", "{archive}", says="pass --force", uses="archive"),
    c(
        "export",
        "--output",
        "{copy}/catalogue.db",
        "--archive",
        "{copy}",
        "--force",
        says="inside the archive",
        uses="copy",
    ),
    c(
        "export",
        "--output",
        "{copy}/warc/{warc}",
        "--archive",
        "{copy}",
        "--force",
        says="inside the archive",
        uses="copy",
    ),
    c("export", "--output", "{copy}/a.jsonl", "--archive", "{copy}", says="inside the archive", uses="copy"),
    c(
        "export",
        "--output",
        "{copy}/a.jsonl",
        "--archive",
        "{copy}",
        says="inside the archive",
        uses="copy",
        process=True,
    ),
    c("export", "--archive", "{not_sqlite}", says="not a usable SQLite catalogue"),
    c("export", "--archive", "{a_file}", says="is a file"),
]
STATS = [
    c("stats", "--archive", "{missing}", says="no archive at"),
    c("stats", "--archive", "{not_sqlite}", says="not a usable SQLite catalogue"),
    c("stats", "--archive", "{foreign}", says="not a usable SQLite catalogue"),
    c("stats", "--bogus", "--archive", "{archive}", says="No such option", uses="archive"),
]
BROWSE = [
    c("browse", "--archive", "{missing}", says="no archive at"),
    c("browse", "--port", "70000", "--archive", "{archive}", says="--port", uses="archive"),
    c("browse", "--port", "{busy_port}", "--archive", "{archive}", says=BUSY, uses="archive"),
    c("browse", "--port", "{busy_port}", "--archive", "{archive}", says=BUSY, uses="archive", process=True),
    c("browse", "--archive", "{not_sqlite}", says="not a usable SQLite catalogue"),
]
WACZ = [  # more in tests/test_wacz.py (a damaged record, an unwritable directory, --verify of tampered packages)
    c("wacz", "--archive", "{archive}", says="give --output FILE.wacz", uses="archive"),
    c("wacz", "--archive", "{missing}", "--output", "{tmp}/a.wacz", says="no archive at"),
    c("wacz", "--archive", "{not_sqlite}", "--output", "{tmp}/a.wacz", says="not a usable SQLite catalogue"),
    c("wacz", "--archive", "{archive}", "--output", "{tmp}/a.wacz", "--run", "9", says="no such run", uses="archive"),
    c("wacz", "--archive", "{archive}", "--output", "{tmp}/a.wacz", "--run", "0", says="--run", uses="archive"),
    c("wacz", "--archive", "{archive}", "--output", "{tmp}/a.zip", says="must end in .wacz", uses="archive"),
    c("wacz", "--archive", "{archive}", "--output", "{missing}/a.wacz", says="does not exist", uses="archive"),
    c("wacz", "--archive", "{archive}", "--output", "{tmp}/a.wacz", "--until", "x", says="not a date", uses="archive"),
    c("wacz", "--verify", "{a_file}", says="is not a WACZ file"),
    c("wacz", "--verify", "{a_file}", says="is not a WACZ file", process=True),
]
CASES = [
    *CRAWL,
    *REPLICA,
    *DEMO,
    *PROBE,
    *SHOW,
    *HISTORY,
    *VERIFY,
    *REINDEX,
    *REPLAY,
    *SEARCH,
    *EXPORT,
    *STATS,
    *BROWSE,
    *WACZ,
]


# -- the places the argv refer to ---------------------------------------------


def digest(root: Path) -> dict[str, str]:
    """Every file's SHA-256 but the lock (which each locking command rewrites) and SQLite's scratch files.

    A read-only open in a writable directory leaves an empty `-wal` and a `-shm`
    index (SQLite's own); a `-wal` that holds rows would count.
    """
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "lock" and not _sqlite_scratch(path)
    }


def _sqlite_scratch(path: Path) -> bool:
    return path.name.endswith("-shm") or (path.name.endswith("-wal") and path.stat().st_size == 0)


@dataclass
class Shared:
    archive: Path
    article: str
    warc: str
    a_file: Path
    not_sqlite: Path
    latin1_profile: Path
    regex_profile: Path
    busy_port: int


def foreign_catalogue(archive: Path) -> Path:
    """A SQLite file of someone else's whose `articles` table is not ours."""
    archive.mkdir()
    conn = sqlite3.connect(archive / "catalogue.db")
    conn.execute("CREATE TABLE articles (x)")
    conn.execute("INSERT INTO articles VALUES (1)")
    conn.commit()
    conn.close()
    return archive


def profiles(tmp: Path) -> tuple[Path, Path]:
    from importlib import resources

    shipped = (resources.files("portal_crawler.profiles") / "mps.toml").read_text(encoding="utf-8")
    latin1 = tmp / "latin1.toml"
    latin1.write_bytes(shipped.encode("utf-8") + "\n# Café, saved as Latin-1\n".encode("latin-1"))
    regex = tmp / "regex.toml"
    regex.write_text(shipped.replace("listing = ['^/news-and-events", "listing = ['(^/news-and-events"))
    return latin1, regex


def crawl_once(archive: Path) -> None:
    with Replica(ReplicaConfig(articles=3, seed=1, host="127.0.0.1", port=0)) as replica:
        done = run_process(("crawl", "--archive", str(archive), "--full", "--start-url", replica.listing_url))
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    tmp = tmp_path_factory.mktemp("bad-input")
    crawl_once(tmp / "archive")
    conn = sqlite3.connect(tmp / "archive" / "catalogue.db")
    article = conn.execute("SELECT id FROM articles ORDER BY id LIMIT 1").fetchone()[0]
    warc = conn.execute("SELECT warc_filename FROM captures LIMIT 1").fetchone()[0]
    conn.close()
    (tmp / "a-file").write_text("not an archive\n")
    (tmp / "not-sqlite").mkdir()
    (tmp / "not-sqlite" / "catalogue.db").write_text("these are not the bytes of a SQLite database\n" * 100)
    latin1, regex = profiles(tmp)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield Shared(
            tmp / "archive", article, warc, tmp / "a-file", tmp / "not-sqlite", latin1, regex, busy.getsockname()[1]
        )


@pytest.fixture(scope="module")
def untouched(shared: Shared) -> dict[str, dict[str, str]]:
    """What the shared inputs hold before any case runs."""
    return {str(path): digest(path.parent if path.is_file() else path) for path in (shared.archive, shared.not_sqlite)}


def places(shared: Shared, tmp: Path) -> dict[str, str]:
    (tmp / "empty").mkdir()
    return {
        "archive": str(shared.archive),
        "copy": str(tmp / "copy"),
        "missing": str(tmp / "missing"),
        "tmp": str(tmp / "empty"),
        "foreign": str(tmp / "foreign"),
        "a_file": str(shared.a_file),
        "not_sqlite": str(shared.not_sqlite),
        "latin1_profile": str(shared.latin1_profile),
        "regex_profile": str(shared.regex_profile),
        "busy_port": str(shared.busy_port),
        "article": shared.article,
        "warc": shared.warc,
        "long_query": "drug " * 201,
        "many_terms": " ".join(f"word{i}" for i in range(65)),
    }


# -- running a case -------------------------------------------------------------


def run_process(argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """`python -m portal_crawler ARGV` as cron runs it (str arguments holding surrogates become their bytes)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_ARCHIVE", "PORTAL_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "portal_crawler", *argv],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
        env={**env, "PORTAL_FAST": "1"},
    )


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_in_process(argv: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> Outcome:
    """The command through `cli.main` (PortalGroup); a case that would start Scrapy or serve a replica fails."""

    def fenced(*args: object, **kwargs: object) -> None:
        raise AssertionError("this case got past its checks and started work")

    monkeypatch.setattr("portal_crawler.crawl.run.CrawlerProcess", fenced)  # crawl and demo: Scrapy never starts
    monkeypatch.setattr("portal_crawler.replica.serve", fenced)
    monkeypatch.delenv("PORTAL_ARCHIVE", raising=False)
    monkeypatch.delenv("PORTAL_DEBUG", raising=False)
    result = CliRunner().invoke(cli, list(argv), env={"PORTAL_FAST": "1"})
    return Outcome(result.exit_code, result.stdout, result.stderr)


def run_case(case: Case, where: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Outcome:
    argv = tuple(arg.format(**where) for arg in case.argv)
    lock = ArchiveLock(Path(where["copy"])) if case.locked else None
    if lock:
        lock.acquire()
    try:
        if case.process:
            done = run_process(argv)
            return Outcome(done.returncode, done.stdout, done.stderr)
        return run_in_process(argv, monkeypatch)
    finally:
        if lock:
            lock.release()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_is_one_line(
    case: Case, shared: Shared, untouched: dict[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = places(shared, tmp_path)
    if case.uses == "copy":
        shutil.copytree(shared.archive, where["copy"])
    if "{foreign}" in case.argv:
        foreign_catalogue(Path(where["foreign"]))
    outcome = run_case(case, where, monkeypatch)
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in outcome.stderr, (case, outcome.stderr)
    assert lines[0].startswith("portal-crawler: "), lines[0]
    assert case.message.format(**where) in lines[0], (case, lines[0])
    assert outcome.code == case.code, (case, outcome.code, lines[0])
    assert not Path(where["missing"]).exists(), f"{case} created {where['missing']}"
    if case.uses in ("archive", "copy"):
        archive = shared.archive if case.uses == "archive" else Path(where["copy"])
        assert verify_archive(archive).ok, case
    assert digest(shared.archive) == untouched[str(shared.archive)], f"{case} changed the shared archive"


def test_the_table_covers_every_command() -> None:
    assert len(CASES) >= 60
    assert {case.argv[0] for case in CASES} == set(cli.commands)
    assert sum(case.process for case in CASES) >= 5


def test_the_shared_inputs_are_untouched(shared: Shared, untouched: dict[str, dict[str, str]]) -> None:
    assert digest(shared.not_sqlite) == untouched[str(shared.not_sqlite)]
    assert shared.a_file.read_text() == "not an archive\n"


def test_a_damaged_record_for_show_is_one_line_and_exit_1(shared: Shared, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(shared.archive, copy)
    for path in (copy / "warc").glob("*.warc.gz"):
        path.write_bytes(path.read_bytes()[:2000])
    done = run_process(("show", "--archive", str(copy), shared.article, "--html"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and "offset" in lines[0] and "Traceback" not in done.stderr


def test_a_non_utf8_byte_on_the_real_command_line(shared: Shared) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "portal_crawler", "search", b"caf\xe9", "--archive", str(shared.archive)],
        capture_output=True,
        timeout=60,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and b"not UTF-8 text" in lines[0], done.stderr
