"""Each stage flow alone, as an operator runs it from the dashboard or `revcycle run
--stage`: one after another they take a day as far as the daily flow does, each names its
flow run after the stage and the business date, and a stage run again finds nothing new."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from revcycle.db import models
from tests.integration.conftest import configure

TENANTS = ["northside", "riverbend"]


def _statuses() -> Counter:
    from revcycle.pipeline.resources import get_resources

    with get_resources().sessions() as session:
        return Counter(dict(session.execute(select(models.Claim.status, func.count())
                                            .group_by(models.Claim.status)).all()))


def _flow_run_name(state: Any) -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id).name


@pytest.mark.usefixtures("prefect_server")
def test_the_stage_flows_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import stages
    from revcycle.demo import drop_business_day
    from revcycle.pipeline.resources import get_resources

    configure(monkeypatch, tmp_path / "home")
    day = drop_business_day(get_resources().store, claims=80, seed=5, tenants=tuple(TENANTS),
                            payers=2).business_date
    expected = {
        "ingest": lambda s: s == Counter({"RECEIVED": 80}),
        "quality": lambda s: "RECEIVED" not in s and s["VALIDATED"] > 0,
        "scrub": lambda s: "VALIDATED" not in s and s["READY"] > 0,
        "submit": lambda s: "READY" not in s and s["SUBMITTED"] > 0,
        "mailbox": lambda s: "SUBMITTED" not in s and s["PAID"] > 0,
        "report": lambda s: s["PAID"] > 0,
    }
    flows = {"ingest": stages.ingest_flow, "quality": stages.quality_flow,
             "scrub": stages.scrub_flow, "submit": stages.submit_flow,
             "mailbox": stages.mailbox_flow, "report": stages.report_flow}
    for name, flow in flows.items():
        state = flow(business_date=day, tenants=TENANTS, return_state=True)
        assert state.is_completed(), (name, state.message)
        assert _flow_run_name(state) == f"{name} {day}"
        assert expected[name](_statuses()), (name, _statuses())
    report = state.result()["report"]
    assert report["claims"]["in"] == 80
    # Scrub again for the day: it comes back Cached, having nothing new to do.
    again = stages.scrub_flow(business_date=day, tenants=TENANTS, return_state=True)
    steps = again.result()["stages"]["scrub"]
    assert [step["state"] for step in steps] == ["Cached", "Cached"]


@pytest.mark.usefixtures("prefect_server")
def test_a_corrected_claim_is_picked_up_by_the_stage_reruns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A claim rejected at scrub (its total is not the sum of its lines), corrected by a
    biller through the CLI: the day's quality, scrub and submit run again do the work (not
    Cached), the payer gets the corrected total, and a further re-run is Cached."""
    from typer.testing import CliRunner

    from flows import stages
    from revcycle.cli import app
    from revcycle.pipeline.resources import get_resources
    from revcycle.pipeline.versions import current_claims
    from tests.unit.pipeline.conftest import DAY, drop_claims, factory

    configure(monkeypatch, tmp_path / "home")
    res = get_resources()
    f = factory("northside", seed=9, payers=["SIMA1"])
    day = f.generate(20, defect_rate=0.2, defects=("BAL-01",))
    drop_claims(res, "northside", day.claims, f.submitter)
    run = {"business_date": DAY, "tenants": ["northside"], "return_state": True}
    for flow in (stages.ingest_flow, stages.quality_flow, stages.scrub_flow,
                 stages.submit_flow):
        assert flow(**run).is_completed()
    with res.sessions() as session:
        rejected = session.scalars(select(models.Claim).where(
            models.Claim.status == "REJECTED",
            models.Claim.id.in_(select(models.Edit.claim_id).where(
                models.Edit.rule_id == "BAL-01"))).order_by(models.Claim.id)).first()
        assert rejected is not None
        (_, claim), = current_claims(session, res.store, [rejected])
    lines = sum(line.charge for line in claim.service_lines)
    assert claim.total_charge != lines
    done = CliRunner().invoke(app, ["claims", "correct", str(rejected.id), "--set",
                                    f"total_charge={lines}", "--by", "biller",
                                    "--date", f"{DAY}"])
    assert done.exit_code == 0, done.output
    assert "total_charge (changed)" in done.output and str(lines) not in done.output

    states = {}
    for name, flow in (("quality", stages.quality_flow), ("scrub", stages.scrub_flow),
                       ("submit", stages.submit_flow)):
        state = flow(**run)
        assert state.is_completed(), (name, state.message)
        states[name] = state.result()["stages"][name]
    assert [s["state"] for s in states["quality"]] == ["Completed"], states
    assert [s["state"] for s in states["scrub"]] == ["Completed"], states
    with res.sessions() as session:
        row = session.get_one(models.Claim, rejected.id)
        assert row.status == "SUBMITTED"
        submission = session.get_one(models.Submission, row.submission_id)
        sent = res.store.get(submission.key).decode()
    assert f"CLM*{claim.patient_control_number}*{lines}" in sent
    # Nothing new since: the stages come back Cached.
    again = stages.scrub_flow(**run).result()["stages"]["scrub"]
    assert [s["state"] for s in again] == ["Cached"]
