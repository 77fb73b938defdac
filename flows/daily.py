"""The daily run: every stage, in order, for every tenant and payer.

It calls the stage tasks directly rather than the stage flows, so that one flow run holds
every task run: the dashboard's Retry re-runs the flow and finished tasks come back
Cached (their results are persisted under a (stage, batch) key) instead of running again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from flows.stages import business_day, tenants_of
from revcycle.pipeline.batches import batch_id
from tasks.acks import acks_task
from tasks.ingest import ingest_task
from tasks.payers import load_payers
from tasks.post import post_task
from tasks.quality import quality_task
from tasks.report import report_task
from tasks.scrub import scrub_task
from tasks.submit import submit_task


@flow(name="daily-revenue-cycle")
def daily_revenue_cycle(business_date: date | None = None,
                        tenants: list[str] | None = None) -> dict[str, Any]:
    day = business_day(business_date)
    tenants = tenants_of(tenants)
    payers = sorted(load_payers())
    stages: dict[str, list[dict[str, Any]]] = {"ingest": [], "quality": [], "scrub": [],
                                                "submit": [], "acks": [], "post": []}
    for tenant in tenants:
        stages["ingest"].append(ingest_task(tenant, day))
    for tenant in tenants:
        batch = batch_id(tenant, day)
        stages["quality"].append(quality_task(batch))
        stages["scrub"].append(scrub_task(batch))
        for payer in payers:
            stages["submit"].append(submit_task(batch, payer))
        for payer in payers:
            stages["acks"].append(acks_task(batch, payer))
            stages["post"].append(post_task(batch, payer))
    report = report_task(day, tenants)
    return {"stages": stages, "report": report}
