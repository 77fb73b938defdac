"""The codec benchmark runs end to end on a tiny input and reports what it promises.

Behaviour only: the figures are not checked against targets (timings depend on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "x12_bench.py"

TIMED = ("naive_split_837", "read_837", "pyx12", "pyx12_segments", "write_837",
         "naive_split_835", "read_835", "edi835")
RATIOS = ("read_837_vs_naive", "read_835_vs_naive", "read_vs_pyx12", "read_835_vs_edi835")


def test_quick_run_ends_with_one_json_object_of_positive_figures() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "50", "--quick"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert len(lines) > 10  # the table and the targets come first
    figures = json.loads(lines[-1])

    assert figures["claims"] == 50
    assert figures["read_837_claims"] == 50
    assert figures["read_835_claims"] == 50
    assert figures["pyx12_claims"] == 50
    for key in TIMED:
        for suffix in ("_s", "_claims_per_s", "_mb_per_s", "_peak_mib"):
            value = figures[key + suffix]
            assert isinstance(value, float) and value > 0, key + suffix
    for key in (*RATIOS, "pyx12_map_load_s", "write_837_claims_per_s"):
        assert figures[key] > 0, key
    assert set(figures["targets_met"]) == {*RATIOS, "write_837_claims_per_s"}
    assert all(isinstance(v, bool) for v in figures["targets_met"].values())
    # The writer's 837P passes pyx12; edi-835-parser drops what ours keeps.
    assert figures["pyx12_valid"] is True
    assert figures["read_835_claim_cas"] > 0 and figures["read_835_plb"] == 3
    assert figures["edi835_keeps_claim_cas"] is False
    assert figures["edi835_keeps_plb"] is False


def test_claims_must_be_positive() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "0", "--quick"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2
    assert "--claims must be at least 1" in run.stderr
