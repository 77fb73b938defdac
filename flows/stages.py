"""One flow per stage. Each takes the business date (default: the scheduled day) and the
tenants (default: ``REVCYCLE_TENANTS``, else every tenant the database knows), so an
operator can re-run any stage alone for a day from the dashboard or the command line."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from sqlalchemy import select

from revcycle.db.models import Tenant
from revcycle.pipeline.batches import batch_id
from revcycle.pipeline.resources import get_resources
from tasks.acks import acks_task
from tasks.ingest import ingest_task
from tasks.payers import load_payers
from tasks.post import post_task
from tasks.quality import quality_task
from tasks.report import report_task
from tasks.scrub import scrub_task
from tasks.submit import submit_task


def business_day(business_date: date | None) -> date:
    """The day a run is for: given, else the day it was scheduled for, else today."""
    if business_date is not None:
        return business_date
    scheduled = flow_run.scheduled_start_time
    return scheduled.date() if scheduled is not None else date.today()


def tenants_of(tenants: list[str] | None) -> list[str]:
    if tenants:
        return sorted(tenants)
    res = get_resources()
    if res.settings.tenants:
        return sorted(res.settings.tenants)
    with res.sessions() as session:
        return sorted(session.scalars(select(Tenant.id)))


@flow(name="ingest")
def ingest_flow(business_date: date | None = None,
                tenants: list[str] | None = None) -> list[dict[str, Any]]:
    day = business_day(business_date)
    return [ingest_task(tenant, day) for tenant in tenants_of(tenants)]


@flow(name="quality")
def quality_flow(business_date: date | None = None,
                 tenants: list[str] | None = None) -> list[dict[str, Any]]:
    day = business_day(business_date)
    return [quality_task(batch_id(t, day)) for t in tenants_of(tenants)]


@flow(name="scrub")
def scrub_flow(business_date: date | None = None,
               tenants: list[str] | None = None) -> list[dict[str, Any]]:
    day = business_day(business_date)
    return [scrub_task(batch_id(t, day)) for t in tenants_of(tenants)]


@flow(name="submit")
def submit_flow(business_date: date | None = None,
                tenants: list[str] | None = None) -> list[dict[str, Any]]:
    day = business_day(business_date)
    return [submit_task(batch_id(t, day), payer) for t in tenants_of(tenants)
            for payer in sorted(load_payers())]


@flow(name="acks-and-post")
def acks_and_post_flow(business_date: date | None = None,
                       tenants: list[str] | None = None) -> list[dict[str, Any]]:
    day = business_day(business_date)
    results = []
    for tenant in tenants_of(tenants):
        for payer in sorted(load_payers()):
            results.append(acks_task(batch_id(tenant, day), payer))
            results.append(post_task(batch_id(tenant, day), payer))
    return results


@flow(name="report")
def report_flow(business_date: date | None = None,
                tenants: list[str] | None = None) -> dict[str, Any]:
    return report_task(business_day(business_date), tenants_of(tenants))
