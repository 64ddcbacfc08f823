"""requirements.lock: exact versions of every dependency and extra, within pyproject's ranges, installed by make.

A dependency added to pyproject.toml without `make lock` fails here, naming it.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)(?:\s*;\s*(?P<marker>.+))?$")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def lock_lines() -> list[str]:
    """The lock's requirement lines (uv's `# via` comments and blank lines left out)."""
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def pins() -> dict[str, str]:
    """Package -> the version the lock pins for this interpreter and platform (markers evaluated)."""
    found: dict[str, str] = {}
    for line in lock_lines():
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            (spec,) = requirement.specifier
            found[canonicalize_name(requirement.name)] = spec.version
    return found


def wanted() -> list[Requirement]:
    """Every requirement pyproject declares: the dependencies and each extra's."""
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    return [Requirement(text) for text in [*project["dependencies"], *(r for group in extras.values() for r in group)]]


def test_every_line_of_the_lock_is_one_exact_version() -> None:
    lines = lock_lines()
    assert len(lines) > 50
    bad = [line for line in lines if not PIN.match(line)]
    assert bad == [], "not NAME==VERSION: " + ", ".join(bad)


def test_every_dependency_and_extra_is_pinned_within_its_range() -> None:
    locked = pins()
    for requirement in wanted():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements.lock: run 'make lock'"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock pins {name}=={locked[name]}, outside pyproject's {requirement}: run 'make lock'"
        )


def test_the_extras_are_the_documented_ones() -> None:
    extras = pyproject()["project"]["optional-dependencies"]
    assert {"replay", "browse", "test", "dev"} <= set(extras)
    assert any(Requirement(r).name == "uv" for r in extras["dev"])  # the tool that writes the lock is a dev extra
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for extra in ("replay", "browse", "test", "dev"):
        assert f"portal-crawler[{extra}]" in readme, extra


@pytest.mark.slow
def test_make_installs_from_the_lock(tmp_path: Path) -> None:
    """`make -n`: the install step installs the lock's versions, then the project without resolving again."""
    env = {**os.environ, "MAKEFLAGS": ""}
    done = subprocess.run(
        ["make", "-n", "-B", "install", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    commands = [line for line in done.stdout.splitlines() if " pip install " in line]
    assert [c.split(" pip install ", 1)[1] for c in commands] == ["-q -r requirements.lock", "-q --no-deps -e ."]
    prerequisites = subprocess.run(
        ["make", "-p", "-n", "-q", f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True, text=True, env=env
    ).stdout
    rule = next(line for line in prerequisites.splitlines() if line.startswith(f"{tmp_path / 'venv'}/.installed:"))
    assert "requirements.lock" in rule and "pyproject.toml" in rule
