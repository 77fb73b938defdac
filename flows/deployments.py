"""Deployments: the daily run on a schedule, and every stage flow, served by one process.

A deployment is what the dashboard's Retry button and "Run" menu work on: with these
served, an operator re-runs a failed day (finished tasks come back Cached) or one stage
for a day without a terminal. ``revcycle serve`` runs them; a team install deploys the
same ones to a process work pool from ``infra/prefect.yaml`` (``make deploy``), whose
agreement with this module is tested.
"""

from __future__ import annotations

from typing import Any

from prefect.schedules import Cron

from flows import stages
from flows.daily import daily_revenue_cycle

DAILY_CRON = "0 6 * * *"  # every day at 06:00, for the day before's drop-offs: see README
STAGE_FLOWS = (stages.ingest_flow, stages.quality_flow, stages.scrub_flow,
               stages.submit_flow, stages.mailbox_flow, stages.report_flow)


def deployments(cron: str = DAILY_CRON, timezone: str = "UTC") -> list[Any]:
    """The daily run on ``cron``, and each stage flow on demand (no schedule)."""
    daily = daily_revenue_cycle.to_deployment(
        name="daily", schedule=Cron(cron, timezone=timezone), tags=["revcycle"],
        description="Every tenant and payer through every stage for the business day.")
    on_demand = [flow.to_deployment(name="on-demand", tags=["revcycle", "stage"],
                                    description=f"Re-run the {flow.name} stage for a day.")
                 for flow in STAGE_FLOWS]
    return [daily, *on_demand]
