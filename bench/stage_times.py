"""Per-stage busy seconds of one real daily run, the input of ``bench/scale_model.py``.

Runs ``revcycle demo --claims N --tenants T --json`` (``bench/demo_run.py``: a fresh
PostgreSQL database, folder store and Prefect home), then reads the run's task runs from
Prefect's API (the temporary server again, on the same Prefect home) and sums each stage's
``total_run_time``: the time its task runs spent running, as Prefect records it. A task
run's name starts with its stage (``submit · northside · SIMA1``).

The run uses the daily flow's thread pool (8 threads) on this machine, so a step's time is
measured while other steps run beside it: on a 2-core machine the figures include waiting
for a core (and for Python's interpreter lock). The JSON says how busy the run was
(``mean_concurrency``: busy seconds over the flow's wall time).

Prints a table, then one JSON object in the format ``scale_model.py --input`` reads.
Run: ``python bench/stage_times.py [--claims 20000] [--tenants 9] [--postgres ADMIN_URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from bench.demo_run import ADMIN_URL, REPO, demo_environment, run_demo

STAGES = ("ingest", "quality", "scrub", "write", "submit", "collect", "route", "acks",
          "post", "report")


async def _read_runs() -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    tasks: list[dict[str, Any]] = []
    async with get_client() as client:
        while True:
            page = await client.read_task_runs(limit=200, offset=len(tasks))
            tasks += [{"name": r.name, "state": r.state_type.value if r.state_type else "",
                       "run_s": r.total_run_time.total_seconds(),
                       "start": r.start_time.timestamp() if r.start_time else None,
                       "end": r.end_time.timestamp() if r.end_time else None}
                      for r in page]
            if len(page) < 200:
                break
        flows = [{"name": f.name, "flow": str(f.flow_id),
                  "start": f.start_time.timestamp() if f.start_time else None,
                  "end": f.end_time.timestamp() if f.end_time else None}
                 for f in await client.read_flow_runs(limit=200)]
    return {"tasks": tasks, "flows": flows}


def read_runs(env: dict[str, str]) -> dict[str, Any]:
    """Every task run and flow run on the Prefect home of ``env``, read in a child process
    (Prefect reads PREFECT_HOME when it is imported)."""
    code = ("import asyncio, json, bench.stage_times as s;"
            " print(json.dumps(asyncio.run(s._read_runs())))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def stage_figures(runs: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Busy seconds and step count per stage, from the task runs' names and run times."""
    busy: dict[str, float] = defaultdict(float)
    steps: dict[str, int] = defaultdict(int)
    for task in runs["tasks"]:
        stage = task["name"].split(" · ")[0]
        if stage in STAGES:
            busy[stage] += task["run_s"]
            steps[stage] += 1
    return {stage: {"busy_s": round(busy[stage], 3), "steps": steps[stage]}
            for stage in STAGES if steps[stage]}


# A step and the step before it in the same chain (same tenant, same payer).
CHAIN = {"quality": "ingest", "scrub": "quality", "write": "scrub", "post": "acks"}


def overhead_per_step(runs: dict[str, Any]) -> float:
    """The median time from a step's end to the start of the next step of its chain
    (quality after ingest, scrub after quality, post after acks): what orchestration adds
    between two steps (state changes, the next step's dispatch), waits for a free thread
    included."""
    by_name = {t["name"]: t for t in runs["tasks"]}
    gaps = []
    for name, task in by_name.items():
        stage, _, rest = name.partition(" · ")
        before = by_name.get(f"{CHAIN.get(stage)} · {rest}")
        if before and task["start"] is not None and before["end"] is not None:
            gaps.append(task["start"] - before["end"])
    return round(max(0.0, statistics.median(gaps)), 4) if gaps else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20000)
    parser.add_argument("--tenants", type=int, default=9)
    parser.add_argument("--postgres", default=ADMIN_URL, help="admin URL of the server")
    parser.add_argument("--save-runs", type=Path, help="also write the task runs read here"
                        " (names, times) to this JSON file")
    args = parser.parse_args()

    from revcycle.db.scratch import create_database, drop_database

    url = create_database(args.postgres, "revcycle_stagetimes")
    try:
        with tempfile.TemporaryDirectory(prefix="revcycle-stagetimes-") as tmp:
            env = demo_environment(Path(tmp) / "home", url, Path(tmp) / "prefect")
            demo = run_demo(args.claims, args.tenants, env)
            if demo.returncode not in (0, 1) or not demo.summary:
                sys.exit(f"demo failed ({demo.returncode}): {demo.stderr_tail}")
            runs = read_runs(env)
            if args.save_runs:
                args.save_runs.write_text(json.dumps(runs))
    finally:
        drop_database(args.postgres, url)

    daily = [f for f in runs["flows"] if f["name"].startswith("daily")]
    flow_wall = (daily[0]["end"] - daily[0]["start"]) if daily and daily[0]["end"] else 0.0
    stages = stage_figures(runs)
    busy = sum(s["busy_s"] for s in stages.values())
    print(f"revcycle demo --claims {args.claims} --tenants {args.tenants}, PostgreSQL,"
          f" {os.cpu_count()} cores: command {demo.wall_s:.1f} s, daily flow {flow_wall:.1f} s")
    print(f"{'stage':<10}{'steps':>7}{'busy s':>10}{'s/step':>10}")
    for name, figures in stages.items():
        print(f"{name:<10}{figures['steps']:>7}{figures['busy_s']:>10.2f}"
              f"{figures['busy_s'] / figures['steps']:>10.3f}")
    print(json.dumps({
        "claims": args.claims, "tenants": args.tenants, "payers": stages["submit"]["steps"]
        // args.tenants if "submit" in stages else 0,
        "stages": stages, "orchestration_s_per_step": overhead_per_step(runs),
        "measured": {"flow_wall_s": round(flow_wall, 2), "command_wall_s": round(demo.wall_s, 2),
                     "workers": 8, "cores": os.cpu_count(), "database": "postgresql",
                     "mean_concurrency": round(busy / flow_wall, 2) if flow_wall else None,
                     "demo_ok": demo.returncode == 0}}))


if __name__ == "__main__":
    main()
