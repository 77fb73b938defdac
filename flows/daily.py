"""The daily run, in two parts: the submission part per tenant batch (ingest, quality,
scrub, write every payer's 837s, then submit per payer) and the mailbox part per day
(collect each payer's channels, route what came, then acks and post per tenant and payer),
then the report.

It submits the stage tasks directly rather than calling the stage flows, so that one flow
run holds every task run: the dashboard's Retry re-runs the flow and finished tasks come
back Cached instead of running again. Each tenant's chain runs concurrently with the
others through the flow's task runner (a thread pool, or Dask workers: ``flows.runner``);
a step waits only for the steps whose output it needs, so one tenant's or one payer's
failure never holds up the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow
from prefect.futures import PrefectFuture
from prefect.states import State

from flows.dayrun import DayRun
from flows.runner import task_runner
from flows.stages import (
    add_mailbox_part,
    add_submit_part,
    business_day,
    flow_run_title,
    tenants_of,
)
from revcycle.pipeline.batches import batch_id
from tasks.ingest import ingest_task
from tasks.payer_modules import payer_module_task
from tasks.payers import payer_registry
from tasks.policy import run_name
from tasks.quality import quality_task
from tasks.report import report_task
from tasks.scrub import scrub_task


@flow(name="daily-revenue-cycle", flow_run_name=flow_run_title("daily"),
      task_runner=task_runner())
def daily_revenue_cycle(business_date: date | None = None,
                        tenants: list[str] | None = None) -> State:
    day = business_day(business_date)
    tenants = tenants_of(tenants)
    registry = payer_registry()
    run = DayRun(day, tenants)
    payers = sorted(registry.payers)
    sent: dict[tuple[str, str], PrefectFuture[Any]] = {}
    for broken in registry.broken:
        run.add("payers", run_name("payer module", {"module": broken.module}),
                payer_module_task.submit(broken.module, broken.problem))
    for tenant in tenants:
        batch = batch_id(tenant, day)
        ingest = run.add("ingest", run_name("ingest", {"tenant": tenant}),
                         ingest_task.submit(tenant, day))
        quality = run.add("quality", run_name("quality", {"tenant": tenant}),
                          quality_task.submit(batch, wait_for=[ingest]))
        scrub = run.add("scrub", run_name("scrub", {"tenant": tenant}),
                        scrub_task.submit(batch, wait_for=[quality]))
        add_submit_part(run, tenant, batch, payers, scrub, sent)
    add_mailbox_part(run, day, tenants, payers, sent)
    report = report_task.submit(day, tenants, wait_for=run.every_step())
    run.add("report", run_name("report", {"business_date": day}), report)
    return run.finish()
