"""The scaling benchmarks' logic: the model's scheduler (bench/scale_dag.py) on graphs whose
answer is known, the daily graph's shape against flows/daily.py, and how stage_times.py and
db_growth.py read what a run left (their runs need PostgreSQL and minutes: docs/scaling.md)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from bench.scale_dag import Step, critical_path, daily_graph, simulate
from tests.conftest import REPO


def chain(n: int, cost: float) -> dict[str, Step]:
    return {f"s{i}": Step(f"s{i}", "scrub", cost, [f"s{i - 1}"] if i else []) for i in range(n)}


def independent(n: int, cost: float, uses_db: bool = False) -> dict[str, Step]:
    return {f"s{i}": Step(f"s{i}", "post", cost, [], uses_db) for i in range(n)}


def test_a_chain_takes_the_sum_however_many_workers() -> None:
    steps = {**chain(3, 1.0), "s1": Step("s1", "scrub", 2.5, ["s0"])}
    assert simulate(steps, 8).wall_s == pytest.approx(4.5)
    assert critical_path(steps) == (pytest.approx(4.5), ["s0", "s1", "s2"])


def test_independent_steps_share_the_workers() -> None:
    assert simulate(independent(8, 3.0), 4).wall_s == pytest.approx(6.0)
    assert simulate(independent(8, 3.0), 8).wall_s == pytest.approx(3.0)
    assert simulate(independent(8, 3.0), 1).wall_s == pytest.approx(24.0)


def test_database_writers_are_a_shared_resource() -> None:
    # Half of each 2 s step writes: 8 steps on 8 workers but one writer take 1 + 8 x 1 s.
    steps = independent(8, 2.0, uses_db=True)
    assert simulate(steps, 8, db_writers=1, db_share=0.5).wall_s == pytest.approx(9.0)
    assert simulate(steps, 8, db_writers=math.inf, db_share=0.5).wall_s == pytest.approx(2.0)
    assert simulate(steps, 8, db_writers=1, db_share=0.0).wall_s == pytest.approx(2.0)


def test_the_longest_path_goes_first() -> None:
    # One long chain and short side steps on 2 workers: the chain never waits.
    steps = {**chain(3, 2.0), **{f"x{i}": Step(f"x{i}", "post", 1.0) for i in range(4)}}
    assert simulate(steps, 2).wall_s == pytest.approx(6.0)


def test_the_daily_graph_has_the_flows_steps() -> None:
    tenants, payers = 3, 4
    cost = dict.fromkeys(("ingest", "quality", "scrub", "write", "submit", "collect",
                          "route", "acks", "post", "report"), 1.0)
    graph = daily_graph([100.0] * tenants, payers, cost, 100.0, 300.0)
    per_stage = {stage: sum(1 for s in graph.values() if s.stage == stage) for stage in cost}
    assert per_stage == {"ingest": 3, "quality": 3, "scrub": 3, "write": 3, "submit": 12,
                         "collect": 4, "route": 1, "acks": 12, "post": 12, "report": 1}
    assert set(graph["acks·t1·p2"].after) == {"route", "submit·t1·p2"}
    assert graph["route"].after == [f"collect·p{p}" for p in range(payers)]
    assert len(graph["report"].after) == len(graph) - 1
    # ingest, quality, scrub, write, submit, acks, post, report: 8 steps of 1 s.
    assert critical_path(graph)[0] == pytest.approx(8.0)


def test_costs_scale_with_a_tenants_claims() -> None:
    cost = {"quality": 2.0, "route": 1.0}
    graph = daily_graph([300.0, 100.0], 1, cost, base_claims_per_tenant=100.0,
                        base_claims=200.0, overhead_s=0.5)
    assert graph["quality·t0"].cost_s == pytest.approx(6.5)
    assert graph["quality·t1"].cost_s == pytest.approx(2.5)
    assert graph["route"].cost_s == pytest.approx(2.5)  # 400 of 200 claims: x2, + 0.5


def test_the_model_prints_a_table_then_one_json_object() -> None:
    run = subprocess.run([sys.executable, str(REPO / "bench" / "scale_model.py")],
                         capture_output=True, text=True, timeout=120, check=True)
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    scenarios = figures["scenarios"]
    assert {(s["claims"], s["skewed"]) for s in scenarios} >= {
        (100_000, False), (100_000, True), (1_000_000, False), (1_000_000, True)}
    for s in scenarios:
        walls = [s["wall_s"][w] for w in ("1", "2", "4", "8", "16", "32", "64")]
        assert walls[0] == pytest.approx(s["work_s"], rel=1e-3)  # one worker: all the work
        assert min(walls) >= s["critical_path_s"] - 1e-6
        assert s["workers_enough"] in (1, 2, 4, 8, 16, 32, 64)


def test_stage_times_are_read_from_task_run_names() -> None:
    from bench.stage_times import overhead_per_step, stage_figures

    runs = {"tasks": [
        {"name": "ingest · north", "run_s": 2.0, "start": 0.0, "end": 2.0},
        {"name": "quality · north", "run_s": 3.0, "start": 2.5, "end": 5.5},
        {"name": "acks · north · SIMA1", "run_s": 1.0, "start": 6.0, "end": 7.0},
        {"name": "post · north · SIMA1", "run_s": 1.5, "start": 7.1, "end": 8.6},
        {"name": "payer module · broken", "run_s": 9.0, "start": 0.0, "end": 9.0},
    ]}
    assert stage_figures(runs) == {"ingest": {"busy_s": 2.0, "steps": 1},
                                   "quality": {"busy_s": 3.0, "steps": 1},
                                   "acks": {"busy_s": 1.0, "steps": 1},
                                   "post": {"busy_s": 1.5, "steps": 1}}
    # Gaps within a chain: quality 0.5 s after ingest, post 0.1 s after acks.
    assert overhead_per_step(runs) == pytest.approx(0.3)


def test_db_growth_counts_only_tables_that_grow_per_claim() -> None:
    from bench.db_growth import per_claim

    tables = {"claims": {"rows": 1000, "total": 3_000_000, "indexes": 1_000_000},
              "ledger_entries": {"rows": 7000, "total": 900_000, "indexes": 250_000},
              "files": {"rows": 3, "total": 40_000, "indexes": 16_000}}
    vacuumed = {"claims": {"rows": 1000, "total": 500_000, "indexes": 200_000}}
    rates = per_claim(tables, vacuumed, 1000)
    assert set(rates) == {"claims", "ledger_entries"}  # 3 files for 1,000 claims: per file
    assert rates["claims"] == {"rows": 1.0, "table_bytes": 2000.0, "index_bytes": 1000.0,
                               "vacuumed_bytes": 500.0}
    assert rates["ledger_entries"]["rows"] == 7.0
