"""The team install (infra/prefect.yaml) on a real Prefect server: `prefect deploy`
registers every deployment in the process work pool, and a worker runs one from the
checkout, as an operator's "Run" in the dashboard would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PREFECT = str(Path(sys.executable).with_name("prefect"))


def _prefect(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PREFECT, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_deploy_and_a_worker_run_the_stage_flows(prefect_server: None,
                                                  tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(),
           "REVCYCLE_CHECKOUT": str(REPO), "REVCYCLE_HOME": str(tmp_path / "home"),
           "PREFECT_HOME": str(tmp_path / "prefect"), "COLUMNS": "200"}
    env.pop("REVCYCLE_DATABASE_URL", None)
    _prefect(env, "work-pool", "create", "revcycle", "--type", "process", "--overwrite")
    _prefect(env, "--no-prompt", "deploy", "--all", "--prefect-file", "infra/prefect.yaml")

    with get_client(sync_client=True) as client:
        pooled = [d for d in client.read_deployments() if d.work_pool_name == "revcycle"]
        flows = {client.read_flow(d.flow_id).name: d for d in pooled}
    assert {d.name for d in pooled} == {"daily", "on-demand"}
    assert set(flows) == {"daily-revenue-cycle", "ingest", "quality", "scrub", "submit",
                          "mailbox", "report"}
    daily = flows["daily-revenue-cycle"]
    assert [s.schedule.cron for s in daily.schedules] == ["0 6 * * *"]
    assert daily.pull_steps == [{"prefect.deployments.steps.set_working_directory": {
        "directory": str(REPO)}}]

    started = _prefect(env, "deployment", "run", "report/on-demand",
                       "-p", 'business_date="2026-11-02"')
    run_id = started.split("UUID:")[1].split()[0]
    _prefect(env, "worker", "start", "--pool", "revcycle", "--run-once")
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state is not None and state.is_completed(), state

