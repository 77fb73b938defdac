"""The fuzzing harness runs on a small sample and finds no crash there (its full run, with
100,000 inputs, is ``python bench/fuzz.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fuzz.py"


def test_a_quick_run_reads_every_kind_and_crashes_nowhere() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["inputs"] == 2000
    assert set(figures["inputs_by_kind"]) == {"837P", "837I", "CSV", "999", "277CA", "835"}
    assert figures["pipeline_inputs"] >= 18  # every kind also went through the stages
    assert (figures["crashes"], figures["pipeline_crashes"]) == (0, 0), run.stdout[-3000:]


def test_bad_arguments_are_refused() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--inputs", "0"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 2 and "must be at least 1" in run.stderr
