"""`replay` and `browse` without their extra: one line naming the install command, exit 2, nothing done.

No second virtualenv: the command runs with PYTHONPATH naming a directory whose
`pywb` (or `cdxj_indexer`, `datasette`) raises ImportError on import, as a
plain `pip install .` leaves them missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def without(tmp_path: Path, *packages: str) -> dict[str, str]:
    """An environment in which importing each package fails as if it were not installed."""
    shadow = tmp_path / "shadow"
    for package in packages:
        (shadow / package).mkdir(parents=True)
        message = f"No module named {package!r}"
        (shadow / package / "__init__.py").write_text(f"raise ImportError({message!r}, name={package!r})\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_ARCHIVE", "PORTAL_DEBUG")}
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(shadow), env.get("PYTHONPATH")]))}


def portal_crawler(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal_crawler", *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize(
    ("command", "missing", "line"),
    [
        ("replay", ("pywb", "cdxj_indexer"), "replay needs pywb: pip install 'portal-crawler[replay]'"),
        ("replay", ("cdxj_indexer",), "replay needs cdxj_indexer: pip install 'portal-crawler[replay]'"),
        ("browse", ("datasette",), "browse needs datasette: pip install 'portal-crawler[browse]'"),
    ],
)
def test_a_command_without_its_extra_names_the_install_command(
    tmp_path: Path, command: str, missing: tuple[str, ...], line: str
) -> None:
    env = without(tmp_path, *missing)
    archive = tmp_path / "archive"
    done = portal_crawler(env, command, "--archive", str(archive), "--port", "8765")
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"portal-crawler: {line}\n" and done.stdout == ""
    assert not archive.exists()
    helped = portal_crawler(env, command, "--help")  # the help still works, and names the extra
    assert helped.returncode == 0 and f"portal-crawler[{command}]" in " ".join(helped.stdout.split())


def test_the_shadow_hides_only_what_it_names(tmp_path: Path) -> None:
    """The same command with the extra present gets past the check (to the missing archive)."""
    done = portal_crawler(without(tmp_path, "datasette"), "replay", "--archive", str(tmp_path / "none"))
    assert done.returncode == 2 and done.stderr.startswith("portal-crawler: no archive at"), done.stderr
