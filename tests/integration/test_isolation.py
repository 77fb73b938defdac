"""One tenant's or one payer's failure never stops the rest of the day, on the real daily
flow with Prefect's server: the other tenants and payers finish, the run ends Failed naming
what failed, the dashboard's names and logs say what happened (and never a claim's
values), and the next run redoes only what failed, sending nothing twice."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from revcycle.db import models
from tests.integration.conftest import configure

TENANTS = ["lakeview", "northside"]
SECRET = "MÜLLER"  # a value of the claim that the error's message quotes


def _drop_day(payers: int = 3) -> Any:
    from revcycle.demo import drop_business_day
    from revcycle.pipeline.resources import get_resources

    return drop_business_day(get_resources().store, claims=120, seed=3,
                             tenants=tuple(TENANTS), payers=payers)


def _run(business_date: Any) -> tuple[Any, dict[str, Any]]:
    from flows.daily import daily_revenue_cycle

    state = daily_revenue_cycle(business_date=business_date, tenants=TENANTS,
                                return_state=True)
    return state, state.result(raise_on_failure=False)


def _steps(summary: dict[str, Any]) -> dict[str, str]:
    return {step["step"]: step["state"] for steps in summary["stages"].values()
            for step in steps}


def _statuses(tenant: str, payer: str | None = None) -> Counter:
    from revcycle.pipeline.resources import get_resources

    query = select(models.Claim.status, func.count()).where(
        models.Claim.tenant_id == tenant).group_by(models.Claim.status)
    if payer is not None:
        query = query.where(models.Claim.payer_id == payer)
    with get_resources().sessions() as session:
        return Counter(dict(session.execute(query).all()))


def _submissions(tenant: str) -> int:
    from revcycle.pipeline.resources import get_resources

    with get_resources().sessions() as session:
        return session.scalar(select(func.count()).select_from(models.Submission).join(
            models.Batch, models.Batch.id == models.Submission.batch_id).where(
            models.Batch.tenant_id == tenant))


def _run_record(state: Any) -> tuple[str, list[str], list[Any]]:
    """The flow run's name, its task runs' names and its logs, as the dashboard shows them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(flow_run_id).name
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[flow_run_id])))
        logs = client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return name, sorted(t.name for t in tasks), logs


@pytest.mark.usefixtures("prefect_server")
def test_one_tenant_failing_never_stops_the_other(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.scrub

    configure(monkeypatch, tmp_path / "home")
    original = tasks.scrub.scrub_batch

    def poisoned(res: Any, batch_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if batch_id.startswith("lakeview"):  # what a Latin-1 name did to scrub
            raise UnicodeEncodeError("ascii", f"XQB1|{SECRET}|19700101", 5, 6, "not ascii")
        return original(res, batch_id, *args, **kwargs)

    monkeypatch.setattr(tasks.scrub, "scrub_batch", poisoned)
    day = _drop_day()
    state, summary = _run(day.business_date)

    assert state.is_failed()
    steps = _steps(summary)
    assert steps["scrub · lakeview"] == "Failed"
    assert {s for s, st in steps.items() if st == "not run"} == {"write · lakeview"} | {
        f"{stage} · lakeview · {payer}" for stage in ("submit", "acks", "post")
        for payer in ("SIMA1", "SIMB1", "SIMC1", "SIMD1", "SIMH1")}
    assert all(st == "Completed" for s, st in steps.items() if "northside" in s)
    assert "scrub · lakeview" in state.message and "Retry" in state.message
    # The other tenant's day went all the way; this one's claims wait at scrub.
    assert not {"RECEIVED", "VALIDATED", "READY"} & set(_statuses("northside"))
    assert _statuses("northside")["PAID"] > 0
    assert set(_statuses("lakeview")) == {"VALIDATED"}

    name, task_names, logs = _run_record(state)
    assert name == f"daily {day.business_date}"
    assert {"ingest · lakeview", "scrub · lakeview", "submit · northside · SIMA1",
            "post · northside · SIMB1", f"report · {day.business_date}"} <= set(task_names)
    messages = [log.message for log in logs]
    assert any(m.startswith("scrub northside-") and "ready" in m for m in messages)
    failure = next(m for m in messages if m.startswith("scrub · lakeview failed:"))
    assert "UnicodeEncodeError" in failure and "Retry" in failure
    assert not [m for m in messages if SECRET in m or "XQB1" in m]
    assert SECRET not in str(summary)

    # Fixed; run again: only what failed runs, nothing is sent twice.
    monkeypatch.setattr(tasks.scrub, "scrub_batch", original)
    sent = _submissions("northside")
    state, summary = _run(day.business_date)
    assert state.is_completed(), state.message
    steps = _steps(summary)
    assert steps["scrub · lakeview"] == "Completed"
    assert steps["quality · northside"] == steps["scrub · northside"] == "Cached"
    assert steps["write · northside"] == steps["submit · northside · SIMA1"] == "Cached"
    assert _submissions("northside") == sent
    assert not {"RECEIVED", "VALIDATED", "READY"} & set(_statuses("lakeview"))


@pytest.mark.usefixtures("prefect_server")
def test_a_broken_payer_module_disables_only_its_payer(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.payers

    configure(monkeypatch, tmp_path / "home")
    # The payer modules as a data engineer left them: the HMO's module rewritten with a
    # typo in its channel (under a new name, as a new file would be).
    modules = tmp_path / "payers"
    modules.mkdir()
    own = Path(tasks.payers.__file__).parent
    for path in own.glob("*.py"):
        if path.name not in ("__init__.py", "mock_hmo.py"):
            os.symlink(path, modules / path.name)
    (modules / "mock_hmo_sftp.py").write_text(
        "from revcycle.channels import ChannelSpec\n" + (own / "mock_hmo.py").read_text()
        .replace("PayerDefinition(", 'PayerDefinition(channels=(ChannelSpec("sftpp"),), ', 1))
    monkeypatch.setattr(tasks.payers, "__path__", [str(modules)])
    day = _drop_day(payers=5)
    state, summary = _run(day.business_date)

    assert state.is_failed()
    steps = _steps(summary)
    assert steps["payer module · mock_hmo_sftp"] == "Failed"
    assert not [s for s in steps if s.endswith("SIMH1")]  # no step for a disabled payer
    assert all(st == "Completed" for s, st in steps.items() if not s.startswith("payer"))
    reason = next(s["reason"] for s in summary["stages"]["payers"])
    assert "mock_hmo_sftp" in reason and "unknown channel 'sftpp'" in reason
    for tenant in TENANTS:
        assert set(_statuses(tenant, "SIMH1")) == {"VALIDATED"}  # waiting, not rejected
        assert _statuses(tenant, "SIMA1")["PAID"] > 0

    # The module is fixed: the claims that waited are scrubbed and sent.
    monkeypatch.setattr(tasks.payers, "__path__", [str(own)])
    state, summary = _run(day.business_date)
    assert state.is_completed(), state.message
    for tenant in TENANTS:
        assert not {"VALIDATED", "READY"} & set(_statuses(tenant, "SIMH1"))
