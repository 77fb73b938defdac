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
