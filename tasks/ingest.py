"""Ingest task: one run per tenant and business day."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger, task

from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import get_resources
from tasks.policy import phi_safe_errors, stage_task_options


@task(**stage_task_options("ingest", "tenant", "business_date"))
def ingest_task(tenant: str, business_date: date) -> dict[str, Any]:
    with phi_safe_errors():
        result = ingest(get_resources(), tenant, business_date)
    get_run_logger().info("ingest %s: %d files, %d duplicates, %d quarantined, %d claims",
                          result["batch"], result["files"], result["duplicates"],
                          result["quarantined"], result["claims"])
    return result
