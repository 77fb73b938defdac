"""The channel benchmark runs end to end on a few files and counts at the servers.

Behaviour only: the timings are not checked against the 1.5x target (they depend on the
machine); that every file arrived once is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "channel_bench.py"


def test_a_small_run_sends_every_file_once_over_both_channels() -> None:
    run = subprocess.run([sys.executable, "-W", "ignore", str(BENCH), "--files", "20",
                          "--kib", "4"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert any(line.startswith("sftp") for line in lines)
    assert any(line.startswith("https") for line in lines)
    figures = json.loads(lines[-1])
    assert (figures["files_sent"], figures["files_received_twice"]) == (40, 0)
    assert figures["sftp_vs_plain"] > 0 and figures["https_vs_plain"] > 0


def test_nonsense_sizes_are_refused() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--files", "0"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 2 and "must be positive" in run.stderr
