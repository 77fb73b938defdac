"""The posting benchmark runs end to end on a small batch and reports what it promises.

Behaviour only: no timing is checked (it depends on the machine). PostgreSQL is optional
locally (the bench says it skipped it) and required in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_service

BENCH = Path(__file__).resolve().parents[2] / "bench" / "posting_bench.py"


def test_quick_run_ends_with_one_json_object_of_figures() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                         text=True, timeout=600, check=False,
                         env={**os.environ, "GX_ANALYTICS_ENABLED": "false",
                              "DO_NOT_TRACK": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert any("MET" in line or "MISS" in line for line in lines)
    figures = json.loads(lines[-1])
    for key in ("claims_per_s_sqlite", "claims_per_s_postgres",
                "auto_post_dollar_rate_simulator", "day_auto_post_dollar_rate",
                "auto_post_dollar_rate", "match_rate", "claim_match_rate",
                "every_exception_has_a_reason", "targets_met"):
        assert key in figures, key
    world = figures["world"]  # the payer world's weeks, scored against its truth
    assert world["claims"] == 300 and world["remitted_claims"] > 200
    assert world["lines"] > world["remitted_claims"]
    for key in ("auto_post_dollar_rate", "match_rate", "claim_match_rate"):
        assert figures[key] == world[key] and 0.5 < world[key] <= 1, key
    assert world["by_mismatch"]["none"]["matched"] > 0
    assert sum(world["world"][kind] for kind in ("missing_line_ref", "changed_code")) > 0
    require_service(figures["postgres"] is not None, "no PostgreSQL for the posting bench")
    assert figures["claims"] == 500 and figures["quick"] is True
    for run_figures in (figures["sqlite"], figures["postgres"]):
        assert run_figures["claims_per_s"] > 0 and run_figures["seconds"] > 0
        assert run_figures["remittances"] >= 1
        assert run_figures["claims_posted"] + run_figures["exceptions"] >= 450
        assert run_figures["reversals"] > 0  # the simulator's hard cases reach posting
        assert 0 <= run_figures["auto_post_dollar_rate"] <= 1
    assert figures["auto_post_dollar_rate_simulator"] == figures["sqlite"][
        "auto_post_dollar_rate"]
    assert 0 < figures["day_auto_post_dollar_rate"] <= 1
    assert isinstance(figures["every_exception_has_a_reason"], bool)
    assert set(figures["targets_met"]) == {"claims_per_s_postgres",
                                           "auto_post_dollar_rate_simulator",
                                           "auto_post_dollar_rate", "match_rate",
                                           "claim_match_rate"}


def test_claims_must_be_positive() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "0"], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 2
    assert "--claims must be at least 1" in run.stderr
