"""Threads or Dask worker processes: the same demo day on each task runner.

Runs ``revcycle demo --claims 5000 --tenants 6 --json`` once with
``REVCYCLE_TASK_RUNNER=threads`` and once with ``dask`` (a LocalCluster of
``--workers`` processes), each in a fresh temporary home and a fresh ``PREFECT_HOME``
(so both pay for the temporary Prefect server's first start), and compares wall time and
CPU time (the command and every process it started: workers, the temporary server). CPU
seconds per wall second near 1 on threads mean the steps wait on the GIL; more on Dask
mean its processes run them side by side.

Prints a table and, as its last line, one JSON object.
Run: ``python bench/task_runner_bench.py [--claims N] [--tenants N] [--workers N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from bench.demo_run import demo_environment, run_demo


def run_on(runner: str, claims: int, tenants: int, workers: int,
           threads_per_worker: int) -> dict[str, Any]:
    """One ``revcycle demo`` on ``runner`` in fresh homes: wall and CPU seconds, outcome."""
    with tempfile.TemporaryDirectory(prefix=f"revcycle-{runner}-") as tmp:
        # SQLite and a folder store in the temporary home; its own temporary Prefect server.
        env = demo_environment(Path(tmp) / "home", "", Path(tmp) / "prefect")
        env.update(REVCYCLE_TASK_RUNNER=runner, REVCYCLE_DASK_WORKERS=str(workers),
                   REVCYCLE_DASK_THREADS_PER_WORKER=str(threads_per_worker))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = run_demo(claims, tenants, env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1) or not done.summary:
        tail = done.stderr_tail.strip().splitlines()[-5:]
        raise SystemExit(f"{runner}: revcycle demo exited {done.returncode}: {tail}")
    summary = done.summary
    steps = sum(len(s) for s in summary["stages"].values())
    return {"runner": runner, "wall_s": round(done.wall_s, 1), "cpu_s": round(cpu, 1),
            "cpu_per_wall": round(cpu / done.wall_s, 2), "steps": steps,
            "failed_steps": len(summary["failed_steps"]),
            "claims": summary["claims_generated"],
            "by_status": summary["report"]["claims"]["by_status"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--tenants", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--threads-per-worker", type=int, default=4)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    runs = [run_on(runner, args.claims, args.tenants, args.workers, args.threads_per_worker)
            for runner in ("threads", "dask")]
    threads, dask = runs
    print(f"revcycle demo --claims {args.claims} --tenants {args.tenants}; {os.cpu_count()}"
          f" cores, load average {load:.1f} at the start; dask: LocalCluster of"
          f" {args.workers} processes x {args.threads_per_worker} threads")
    print(f"{'runner':<8} {'wall s':>7} {'cpu s':>7} {'cpu/wall':>8} {'steps':>6}"
          f" {'failed':>6} {'claims':>7}")
    for run in runs:
        print(f"{run['runner']:<8} {run['wall_s']:>7} {run['cpu_s']:>7}"
              f" {run['cpu_per_wall']:>8} {run['steps']:>6} {run['failed_steps']:>6}"
              f" {run['claims']:>7}")
    same = threads["by_status"] == dask["by_status"]
    print(f"dask / threads wall: {dask['wall_s'] / threads['wall_s']:.2f};"
          f" claims by status {'the same' if same else 'DIFFER'}")
    print(json.dumps({"claims": args.claims, "tenants": args.tenants,
                      "cores": os.cpu_count(), "load_average": round(load, 1),
                      "dask_workers": args.workers,
                      "dask_threads_per_worker": args.threads_per_worker,
                      "same_statuses": same,
                      "dask_over_threads": round(dask["wall_s"] / threads["wall_s"], 2),
                      "runs": runs}))


if __name__ == "__main__":
    main()
