"""The kill campaign (bench/kill_campaign.py) runs end to end: three kills, each repaired, rerun and checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("unresolved", "missing", "duplicates", "verify", "warcio", "repair", "rerun")


def test_three_kills_leave_a_whole_archive_and_the_figures_say_so(tmp_path: Path) -> None:
    figures_file = tmp_path / "kill_campaign.json"
    options = ["--kills", "3", "--articles", "30", "--seed", "7", "--json", str(figures_file)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.kill_campaign", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_file.read_text(encoding="utf-8"))
    *rounds, final = figures["rounds_detail"]
    assert figures["kills"]["total"] == 3 == sum(r["interrupted"] for r in rounds)
    assert figures["rounds"] == len(rounds) == 3 + figures["finished_before_kill"]
    assert [r["target"] for r in rounds[:3]] == ["crawl", "writer", "group"]  # round-robin
    assert [r["mode"] for r in rounds[:2]] == ["incremental", "full"]  # in turn
    assert final["mode"] == "final" and not any(final["problems"].values())
    assert {figures[check] for check in CHECKS} == {0}
    assert all(r["rerun_exit"] == 0 and not any(r["problems"].values()) for r in rounds)
    round_lines = [line for line in done.stdout.splitlines() if line.startswith("round ")]
    assert len(round_lines) == len(rounds)
    assert "kills that interrupted a run: 3 " in done.stdout and "unresolved 0, missing 0, duplicates 0" in done.stdout


def test_a_kill_count_below_one_is_refused_with_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.kill_campaign", "--kills", "0"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].endswith(
        "--kills must be 1 or more, --articles 0 or more"
    )
