"""One flow per stage. Each takes the business date (default: the scheduled day) and the
tenants (default: ``REVCYCLE_TENANTS``, else every tenant the database knows), so an
operator can re-run any stage alone for a day from the dashboard or the command line.
Like the daily flow, a stage flow runs its tenants' (and payers') steps concurrently, and
one failed step never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from prefect import allow_failure, flow
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import State
from sqlalchemy import select

from flows.dayrun import DayRun
from flows.runner import task_runner
from revcycle.db.models import Tenant
from revcycle.pipeline.batches import batch_id
from revcycle.pipeline.resources import get_resources
from tasks.acks import acks_task
from tasks.ingest import ingest_task
from tasks.mailbox import collect_task, route_task
from tasks.payers import load_payers
from tasks.policy import run_name
from tasks.post import post_task
from tasks.quality import quality_task
from tasks.report import report_task
from tasks.scrub import scrub_task
from tasks.submit import submit_to, write_task


def business_day(business_date: date | str | None) -> date:
    """The day a run is for: given, else the day it was scheduled for, else today."""
    if isinstance(business_date, str):
        return date.fromisoformat(business_date)
    if business_date is not None:
        return business_date
    scheduled = flow_run.scheduled_start_time
    return scheduled.date() if scheduled is not None else date.today()


def flow_run_title(kind: str) -> Callable[[], str]:
    """Flow run names that carry the business date: ``daily 2026-12-02``."""
    def title() -> str:
        return f"{kind} {business_day(flow_run.parameters.get('business_date'))}"
    return title


def tenants_of(tenants: list[str] | None) -> list[str]:
    if tenants:
        return sorted(tenants)
    res = get_resources()
    if res.settings.tenants:
        return sorted(res.settings.tenants)
    with res.sessions() as session:
        return sorted(session.scalars(select(Tenant.id)))


def _stage_flow(name: str) -> Callable[[Callable[..., State]], Callable[..., State]]:
    return flow(name=name, flow_run_name=flow_run_title(name),
                task_runner=task_runner())


def _per_tenant(stage: str, business_date: date | None, tenants: list[str] | None,
                submit_step: Callable[[str, date], Any]) -> State:
    """One step per tenant: ``submit_step(tenant, day)`` submits it."""
    day, chosen = business_day(business_date), tenants_of(tenants)
    run = DayRun(day, chosen)
    for tenant in chosen:
        run.add(stage, run_name(stage, {"tenant": tenant}), submit_step(tenant, day))
    return run.finish()


@_stage_flow("ingest")
def ingest_flow(business_date: date | None = None, tenants: list[str] | None = None) -> State:
    return _per_tenant("ingest", business_date, tenants, ingest_task.submit)


@_stage_flow("quality")
def quality_flow(business_date: date | None = None, tenants: list[str] | None = None) -> State:
    return _per_tenant("quality", business_date, tenants,
                       lambda tenant, day: quality_task.submit(batch_id(tenant, day)))


@_stage_flow("scrub")
def scrub_flow(business_date: date | None = None, tenants: list[str] | None = None) -> State:
    return _per_tenant("scrub", business_date, tenants,
                       lambda tenant, day: scrub_task.submit(batch_id(tenant, day)))


@_stage_flow("submit")
def submit_flow(business_date: date | None = None, tenants: list[str] | None = None) -> State:
    day, tenants = business_day(business_date), tenants_of(tenants)
    run = DayRun(day, tenants)
    for tenant in tenants:
        add_submit_part(run, tenant, batch_id(tenant, day), sorted(load_payers()))
    return run.finish()


def add_submit_part(run: DayRun, tenant: str, batch: str, payers: list[str],
                    after: PrefectFuture[Any] | None = None,
                    sent: dict[tuple[str, str], PrefectFuture[Any]] | None = None) -> None:
    """A batch's write step (every payer's 837s from one read of its claims), then a submit
    step per payer. A payer's step waits for the write step but not for its success: it
    writes what is still unwritten itself, so a failed write step holds no payer up."""
    before = [after] if after is not None else []
    write = run.add("write", run_name("write", {"tenant": tenant}),
                    write_task.submit(batch, wait_for=before))
    for payer in payers:
        step = run.add("submit", run_name("submit", {"tenant": tenant, "payer_id": payer}),
                       submit_to(payer).submit(batch, payer,
                                               wait_for=[*before, allow_failure(write)]))
        if sent is not None:
            sent[tenant, payer] = step


@_stage_flow("mailbox")
def mailbox_flow(business_date: date | None = None,
                 tenants: list[str] | None = None) -> State:
    day, tenants = business_day(business_date), tenants_of(tenants)
    run = DayRun(day, tenants)
    add_mailbox_part(run, day, tenants, sorted(load_payers()))
    return run.finish()


def add_mailbox_part(run: DayRun, day: date, tenants: list[str], payers: list[str],
                     sent: dict[tuple[str, str], PrefectFuture[Any]] | None = None) -> None:
    """The day's mailbox part: collect each payer's channels, route what came, then each
    tenant's acknowledgments and posting per payer (after its submit step, in the daily
    flow: the simulator answers at once). A failed collect or route holds nothing up: the
    acks and post steps apply what did arrive."""
    collects = [run.add("collect", run_name("collect", {"payer_id": payer}),
                        collect_task.submit(payer, day)) for payer in payers]
    routed = run.add("route", run_name("route", {"business_date": day}),
                     route_task.submit(day, wait_for=[allow_failure(c) for c in collects]))
    for tenant in tenants:
        batch = batch_id(tenant, day)
        for payer in payers:
            names = {"tenant": tenant, "payer_id": payer}
            before = [allow_failure(routed), *([sent[tenant, payer]] if sent else [])]
            acks = run.add("acks", run_name("acks", names),
                           acks_task.submit(batch, payer, wait_for=before))
            run.add("post", run_name("post", names),
                    post_task.submit(batch, payer, wait_for=[acks]))


@_stage_flow("report")
def report_flow(business_date: date | None = None, tenants: list[str] | None = None) -> State:
    day, tenants = business_day(business_date), tenants_of(tenants)
    run = DayRun(day, tenants)
    run.add("report", run_name("report", {"business_date": day}),
            report_task.submit(day, tenants))
    return run.finish()
