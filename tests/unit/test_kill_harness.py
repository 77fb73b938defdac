"""The kill harness on a small sample: the day killed at five exact code points and at one
random time, then run again, breaks no invariant and ends as an uninterrupted run does
(its full run, 30 points and 12 random times, is ``python bench/kill_harness.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "kill_harness.py"


@pytest.mark.slow
def test_a_quick_run_kills_the_day_six_times_and_loses_nothing() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--quick", "--claims", "30"],
                         capture_output=True, text=True, timeout=900, check=False)
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0, run.stdout[-3000:]
    assert (figures["scenarios"], figures["exact_points"], figures["random_times"]) == (6, 5, 1)
    assert figures["not_reached"] == [] or figures["not_reached"][0].startswith("random")
    assert figures["kills"] >= 5
    assert (figures["violations"], figures["failed"]) == (0, [])
    assert figures["resends"] >= 1  # the file killed after its send went again, same number


def test_bad_arguments_are_refused() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "3"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 2 and "--claims must be at least 10" in run.stderr
