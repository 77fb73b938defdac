"""How long the daily run takes on W workers, at 100k and 1M claims a day.

A list-scheduling model of the daily flow's steps (``bench/scale_dag.py``), fed with
measured busy seconds per stage for one day (``bench/stage_times.py`` writes them; the
built-in figures below come from one such run). A step's cost is its stage's busy seconds
over its step count, scaled linearly with the claims it handles (its tenant's, or the
day's for collect, route and report), plus an optional orchestration cost per step. The
database is a shared resource: ``--db-writers K`` concurrent writers, and a share
``--db-share`` of each database step's time spent writing (both assumptions, printed).

Prints, for 10 tenants (``--tenants``) with the claims spread evenly and skewed (one
tenant 30%): the day's wall time for W = 1..64 workers, the critical path, where more
workers stop helping and why; last line one JSON object.
Run: ``python bench/scale_model.py [--input FILE] [--db-writers 8] [--db-share 0.5]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from bench.scale_dag import critical_path, daily_graph, simulate

STAGES = ("ingest", "quality", "scrub", "submit", "collect", "route", "acks", "post",
          "report")
WORKERS = (1, 2, 4, 8, 16, 32, 64)
DAYS = (100_000, 1_000_000)
SKEW = 0.30  # the largest tenant's share in the skewed mix
FLAT = 0.05  # "stops helping": within 5% of the best wall time

# Measured on 2026-12-07: `python bench/stage_times.py --claims 20000 --tenants 9` (revcycle
# demo on PostgreSQL 15 + folder store, Prefect's temporary server, the daily flow's 8
# threads, 4 simulator payers + the example payer module) on a 2-core machine shared with
# other jobs (load average 5-7). Busy seconds are sums of the task runs' total_run_time read
# from Prefect's API; steps ran 3.5 at a time on average on 2 cores, so each step's seconds
# include waiting for a core: the figures overstate a step on a dedicated core. The
# simulator answers a submission at once into inbound/, so collect and route had almost
# nothing to do. orchestration_s_per_step: the median gap between a step's end and the next
# step of its chain (bench/stage_times.py, overhead_per_step).
MEASURED: dict[str, Any] = {
    "claims": 20000, "tenants": 9, "payers": 5,
    "stages": {"ingest": {"busy_s": 22.63, "steps": 9}, "quality": {"busy_s": 37.71, "steps": 9},
               "scrub": {"busy_s": 32.074, "steps": 9}, "submit": {"busy_s": 117.548, "steps": 45},
               "collect": {"busy_s": 0.112, "steps": 5}, "route": {"busy_s": 0.026, "steps": 1},
               "acks": {"busy_s": 47.93, "steps": 45}, "post": {"busy_s": 84.251, "steps": 45},
               "report": {"busy_s": 6.309, "steps": 1}},
    "orchestration_s_per_step": 0.0154,
    "measured": {"flow_wall_s": 99.24, "command_wall_s": 145.98, "workers": 8, "cores": 2,
                 "database": "postgresql", "mean_concurrency": 3.51},
}


def load_input(path: Path | None) -> dict[str, Any]:
    figures = json.loads(path.read_text()) if path else MEASURED
    missing = [s for s in STAGES if s not in figures.get("stages", {})]
    if missing or not figures.get("claims") or not figures.get("tenants"):
        raise SystemExit(f"input lacks claims, tenants or stages {missing}")
    return figures


def step_costs(figures: dict[str, Any]) -> dict[str, float]:
    """Seconds of one step of each stage, as measured."""
    return {stage: s["busy_s"] / s["steps"] if s["steps"] else 0.0
            for stage, s in figures["stages"].items()}


def tenant_mix(claims: int, tenants: int, skewed: bool, chunk: int = 0) -> list[float]:
    """Claims per batch: even, or one tenant with 30%; with ``chunk``, each tenant's day
    cut into batches of at most that many claims (a what-if: the flow does not do it)."""
    if not skewed or tenants == 1:
        mix = [claims / tenants] * tenants
    else:
        rest = claims * (1 - SKEW) / (tenants - 1)
        mix = [claims * SKEW] + [rest] * (tenants - 1)
    if chunk <= 0:
        return mix
    return [c / math.ceil(c / chunk) for c in mix for _ in range(math.ceil(c / chunk))]


def scenario(figures: dict[str, Any], claims: int, tenants: int, skewed: bool,
             db_writers: float, db_share: float, chunk: int = 0) -> dict[str, Any]:
    """Wall time per worker count, the critical path and where more workers stop helping."""
    payers = int(figures["payers"])
    graph = daily_graph(tenant_mix(claims, tenants, skewed, chunk), payers, step_costs(figures),
                        figures["claims"] / figures["tenants"], figures["claims"],
                        figures.get("orchestration_s_per_step", 0.0))
    walls = {w: simulate(graph, w, db_writers, db_share).wall_s for w in WORKERS}
    path_s, path = critical_path(graph)
    work = sum(step.cost_s for step in graph.values())
    db_work = sum(step.cost_s * db_share for step in graph.values() if step.uses_db)
    db_bound = db_work / db_writers if db_writers != math.inf else 0.0
    best = min(walls.values())
    enough = next(w for w in WORKERS if walls[w] <= best * (1 + FLAT))
    if best <= path_s * (1 + FLAT):
        limit = "critical path: the largest tenant's chain"
    elif db_bound >= path_s:
        limit = f"database: the writing work over K={db_writers:g} writers"
    else:
        limit = (f"database contention: the chain's steps queue for one of K={db_writers:g}"
                 " writers behind other steps")
    return {"claims": claims, "tenants": tenants, "skewed": skewed, "chunk": chunk,
            "steps": len(graph),
            "wall_s": {str(w): round(s, 1) for w, s in walls.items()},
            "work_s": round(work, 1), "critical_path_s": round(path_s, 1),
            "critical_path": [n.split("·")[0] for n in path],
            "db_bound_s": round(db_bound, 1), "workers_enough": enough, "limit": limit,
            "more_workers_slower": walls[WORKERS[-1]] > best * (1 + FLAT / 5)}


def minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f}"


def calibration(figures: dict[str, Any], db_writers: float, db_share: float) -> dict[str, Any]:
    """The model on the measured day itself, beside the measured flow wall time."""
    measured = figures.get("measured", {})
    graph = daily_graph(tenant_mix(figures["claims"], figures["tenants"], False),
                        int(figures["payers"]), step_costs(figures),
                        figures["claims"] / figures["tenants"], figures["claims"],
                        figures.get("orchestration_s_per_step", 0.0))
    threads = int(measured.get("workers", 8))
    cores = int(measured.get("cores") or threads)
    return {"threads": threads, "cores": cores, "measured_flow_wall_s": measured.get("flow_wall_s"),
            "model_wall_s_threads": round(simulate(graph, threads, db_writers, db_share).wall_s, 1),
            "model_wall_s_cores": round(simulate(graph, cores, db_writers, db_share).wall_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="stage figures (stage_times.py's JSON)")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--db-writers", type=float, default=8.0,
                        help="concurrent database writers K (inf: unlimited)")
    parser.add_argument("--db-share", type=float, default=0.5,
                        help="share of a database step's time spent writing")
    parser.add_argument("--chunk", type=int, default=25_000, help="also model 1M skewed"
                        " with each tenant's day cut into batches of this many claims"
                        " (a what-if; 0: leave it out)")
    args = parser.parse_args()
    figures = load_input(args.input)
    k, share = args.db_writers, args.db_share

    source = f"file {args.input}" if args.input else "built-in, measured"
    print(f"Input: {figures['claims']:,} claims, {figures['tenants']} tenants,"
          f" {figures['payers']} payers ({source});"
          f" orchestration {figures.get('orchestration_s_per_step', 0.0)} s a step")
    print("step seconds at the measured claims a tenant: " + ", ".join(
        f"{s} {c:.2f}" for s, c in step_costs(figures).items()))
    print(f"Database: K={k:g} writers, {share:.0%} of a database step's time writing"
          " (assumptions)\n")
    runs = [scenario(figures, claims, args.tenants, skewed, k, share)
            for claims in DAYS for skewed in (False, True)]
    if args.chunk:
        runs.append(scenario(figures, DAYS[-1], args.tenants, True, k, share, args.chunk))
    heads = [f"{r['claims'] // 1000}k {'skew' if r['skewed'] else 'even'}"
             + (f"/{r['chunk'] // 1000}k" if r["chunk"] else "") for r in runs]
    print(f"{'workers':>8}" + "".join(f"{h:>16}" for h in heads) + "   (minutes)")
    for w in WORKERS:
        print(f"{w:>8}" + "".join(f"{minutes(r['wall_s'][str(w)]):>16}" for r in runs))
    print(f"{'path':>8}" + "".join(f"{minutes(r['critical_path_s']):>16}" for r in runs)
          + "   critical path (no worker count beats it)")
    print(f"{'db':>8}" + "".join(f"{minutes(r['db_bound_s']):>16}" for r in runs)
          + "   database bound (writing work / K)")
    for head, r in zip(heads, runs, strict=True):
        print(f"{head}: {r['steps']} steps; more than {r['workers_enough']} workers gain"
              f" under {FLAT:.0%}; bound by {r['limit']}"
              + ("; more workers are slower: more steps queue for the writers" if
                 r["more_workers_slower"] else "") + ";"
              f" path {' -> '.join(r['critical_path'])}")
    sensitivity = {f"{kk:g}": scenario(figures, DAYS[-1], args.tenants, True, kk,
                                       share)["wall_s"][str(WORKERS[-1])]
                   for kk in (2, 4, 8, 16, math.inf)}
    print(f"1M skewed at {WORKERS[-1]} workers by database writers K: " + ", ".join(
        f"K={kk} {minutes(s)}" for kk, s in sensitivity.items()))
    check = calibration(figures, k, share)
    print(f"Check, the model on the measured day: {check['model_wall_s_threads']} s on"
          f" {check['threads']} workers (the flow's threads), {check['model_wall_s_cores']} s"
          f" on {check['cores']} (the machine's cores); measured flow"
          f" {check['measured_flow_wall_s']} s")
    print(json.dumps({"input": {k2: figures[k2] for k2 in ("claims", "tenants", "payers")},
                      "db_writers": None if k == math.inf else k, "db_share": share,
                      "scenarios": runs, "k_sensitivity_1m_skew_w64_s": sensitivity,
                      "calibration": check}))


if __name__ == "__main__":
    main()
