"""The daily flow on Dask worker processes (a 2-worker LocalCluster) ends the day as the
thread pool does: every claim in the same status with the same amounts and ledger, no
step failed; the steps' log lines reach the server from the workers, and what the
workers finished comes back Cached in the next run."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from revcycle.db import models
from revcycle.pipeline.resources import get_resources
from tests.integration.conftest import configure
from tests.integration.test_daily_flow import TENANTS, _check_day, _counts

CLAIMS = 60


def _day_on(runner: str, home: Path, monkeypatch: pytest.MonkeyPatch,
            **settings: str) -> tuple[Any, Any, bool, dict[str, Any]]:
    """Drop a small demo day in a fresh home and run it as ``revcycle demo`` does."""
    from flows.cli import run_flow
    from flows.daily import daily_revenue_cycle
    from revcycle.demo import drop_business_day

    configure(monkeypatch, home, task_runner=runner, **settings)
    res = get_resources()
    day = drop_business_day(res.store, claims=CLAIMS, seed=11, tenants=TENANTS, payers=3,
                            defect_rate=0.1, sessions=res.sessions)
    ok, summary = run_flow(daily_revenue_cycle, business_date=day.business_date,
                           tenants=list(TENANTS))
    return res, day, ok, summary


def _record_local_clusters(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The worker specs of each LocalCluster started from now on."""
    import distributed

    started: list[dict[str, Any]] = []

    class Recorded(distributed.LocalCluster):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(dict(self.worker_spec))

    # The runner looks its cluster class up by name when it is built (at each run).
    monkeypatch.setattr(distributed, "LocalCluster", Recorded)
    return started


def _books(res: Any) -> dict[str, Any]:
    """The day's outcome per claim, free of ids and times: each claim's status, amounts
    and ledger balances by account, keyed by tenant and patient control number.

    Provider-level adjustments (PLB: entries on no claim) are left out: the simulated
    payers draw them differently from run to run whatever the runner (two runs on threads
    differ there too); ``_check_day`` checks that they balance."""
    with res.sessions() as session:
        rows = list(session.scalars(select(models.Claim)))
        claims = {row.id: (row.tenant_id, row.patient_control_number) for row in rows}
        outcome: dict[tuple[str, str], dict[str, Any]] = {
            claims[row.id]: {"status": row.status, "paid": row.paid,
                             "adjusted": row.adjusted, "patient": row.patient_responsibility}
            for row in rows}
        for claim_id, account, amount in session.execute(
                select(models.LedgerEntry.claim_id, models.LedgerEntry.account,
                       func.sum(models.LedgerEntry.amount))
                .where(models.LedgerEntry.claim_id.is_not(None))
                .group_by(models.LedgerEntry.claim_id, models.LedgerEntry.account)):
            outcome[claims[claim_id]][account] = Decimal(amount)
    return outcome


def _steps(summary: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {stage: sorted((s["step"], s["state"]) for s in steps)
            for stage, steps in summary["stages"].items()}


def _last_run_task_lines() -> list[str]:
    """The log lines the task runs of the latest flow run sent to the server."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        [last] = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)
        logs = client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[last.id])))
    return [log.message for log in logs if log.task_run_id is not None]


@pytest.mark.usefixtures("prefect_server", "standard_exception_pickling")
def test_the_day_on_dask_workers_ends_as_on_threads(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    clusters = _record_local_clusters(monkeypatch)
    home = tmp_path / "dask"
    res, day, ok, dask = _day_on("dask", home, monkeypatch, dask_workers="2",
                                 dask_threads_per_worker="2")
    assert ok and not dask["failed_steps"], dask["failed_steps"]
    # It ran on a LocalCluster of two worker processes (a nanny each), started for the run.
    [workers] = clusters
    assert [spec["cls"].__name__ for spec in workers.values()] == ["Nanny"] * 2
    _check_day(res, day, dask)
    on_dask, counts = _books(res), _counts(res)
    assert {state for steps in _steps(dask).values() for _, state in steps} == {"Completed"}
    # The steps ran in the workers, and their lines reached the server from there.
    lines = _last_run_task_lines()
    for tenant in TENANTS:
        assert any(line.startswith(f"scrub {tenant}-") and " claims: " in line
                   for line in lines), tenant

    res, day, ok, threads = _day_on("threads", tmp_path / "threads", monkeypatch)
    assert ok and not threads["failed_steps"]
    assert _books(res) == on_dask
    assert dask["report"]["claims"] == threads["report"]["claims"]
    assert _steps(dask) == _steps(threads)

    # The same day again in the Dask run's home, on threads this time: the steps the
    # workers finished come back Cached (their cache records and results are where this
    # process looks), and nothing changes.
    from flows.cli import run_flow
    from flows.daily import daily_revenue_cycle
    from revcycle.demo import drop_business_day

    configure(monkeypatch, home, task_runner="threads")
    res = get_resources()
    drop_business_day(res.store, claims=CLAIMS, seed=11, tenants=TENANTS, payers=3,
                      defect_rate=0.1, sessions=res.sessions)
    ok, again = run_flow(daily_revenue_cycle, business_date=day.business_date,
                         tenants=list(TENANTS))
    assert ok and _counts(res) == counts
    states = {stage: {state for _, state in steps} for stage, steps in _steps(again).items()}
    assert states["quality"] == states["scrub"] == states["submit"] == {"Cached"}
