"""The daily benchmark runs a small day end to end on both installations and reports what
it promises; its span arithmetic is right.

Behaviour only: no timing is checked (it depends on the machine). PostgreSQL is optional
locally (the bench says it measured SQLite only) and required in CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_service

BENCH = Path(__file__).resolve().parents[2] / "bench" / "daily_bench.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("daily_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_union_of_spans_counts_overlaps_once() -> None:
    union_s = _bench_module().union_s
    assert union_s([]) == 0
    assert union_s([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == 4.0
    assert union_s([(0.0, 10.0), (2.0, 3.0)]) == 10.0  # one inside another


def test_tree_rss_includes_the_children() -> None:
    tree_rss_kib = _bench_module().tree_rss_kib
    child = subprocess.Popen([sys.executable, "-c",
                              "import time; b = bytearray(64 << 20); time.sleep(30)"])
    try:
        for _ in range(100):  # until the child has touched its 64 MiB
            alone = tree_rss_kib(child.pid)
            if alone > 64 << 10:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert tree_rss_kib(os.getpid()) >= alone > 64 << 10
    finally:
        child.kill()
        child.wait()


def test_small_day_ends_with_one_json_object_of_figures() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "120", "240"],
                         capture_output=True, text=True, timeout=900, check=False,
                         env={**os.environ, "GX_ANALYTICS_ENABLED": "false",
                              "DO_NOT_TRACK": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    measured_postgres = not any(line.startswith("PostgreSQL not reachable") for line in lines)
    require_service(measured_postgres, "PostgreSQL for the daily bench")
    figures = json.loads(lines[-1])
    for key in ("claims", "wall_s_postgres", "wall_s_sqlite", "peak_rss_mib",
                "orchestration_share", "per_claim_ratio_100k_vs_10k"):
        assert figures[key] is not None, key
    assert figures["claims"] == 240 and figures["failed_steps"] == 0
    assert figures["unsettled_claims"] == 0  # every claim adjudicated or refused
    assert 0 < figures["orchestration_share"] < 1 and figures["peak_rss_mib"] > 100
    runs = figures["runs"]
    assert {(r["database"], r["claims"]) for r in runs} == {
        (database, claims) for database in ("sqlite", "postgres") for claims in (120, 240)}
    for run_figures in runs:
        stages = run_figures["stages"]
        # Every stage of the day did work: 10 tenants, 8 payers.
        assert set(stages) == {"ingest", "quality", "scrub", "write", "submit", "collect", "route",
                               "acks", "post", "report"}
        assert stages["ingest"]["steps"] == stages["write"]["steps"] == 10
        assert stages["submit"]["steps"] == 80
        assert stages["post"]["steps"] == 80
        for row in stages.values():
            assert row["steps"] > 0
            assert 0 <= row["wall_s"] <= row["busy_s"] + 0.01 <= run_figures["wall_s"] * 8
        floor = run_figures["floor"]
        assert floor["claims"] > 0 and 4 < floor["rows_per_claim"] < 9
    assert any("x floor" in line for line in lines)


def test_serial_day_runs_every_step_one_after_another() -> None:
    """``--task-runner serial``: the same steps, no runner; the same stages measured, and
    never two steps at once (a stage's busy time is its wall time)."""
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "120", "--databases",
                          "sqlite", "--task-runner", "serial"],
                         capture_output=True, text=True, timeout=900, check=False,
                         env={**os.environ, "GX_ANALYTICS_ENABLED": "false",
                              "DO_NOT_TRACK": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["task_runner"] == "serial"
    assert figures["failed_steps"] == 0 and figures["unsettled_claims"] == 0
    (day,) = figures["runs"]
    stages = day["stages"]
    assert set(stages) == {"ingest", "quality", "scrub", "write", "submit", "collect", "route",
                           "acks", "post", "report"}
    assert stages["submit"]["steps"] == stages["acks"]["steps"] == 80
    for row in stages.values():
        assert abs(row["wall_s"] - row["busy_s"]) < 0.01
