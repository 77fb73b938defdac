"""Ingest task: one run per tenant and business day.

Not cached across runs: a provider may drop files at any time (or the same file again),
and ingest itself takes each file once (by sha256). Within a run, a Retry gets it Cached.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger, task

from revcycle.formatting import counts
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import get_resources
from tasks.policy import audited, in_stage, run_name, stage_task_options


@task(**stage_task_options("ingest", across_runs=False))
def ingest_task(tenant: str, business_date: date) -> dict[str, Any]:
    result = in_stage(run_name("ingest", {"tenant": tenant}), ingest, get_resources(), tenant,
                      business_date)
    audited(get_resources(), "ingest", result["batch"], result)
    get_run_logger().info(
        "ingest %s: %d claims from %s", result["batch"], result["claims"],
        counts({"new files": result["files"], "already ingested": result["duplicates"],
                "quarantined": result["quarantined"],
                "folder markers skipped": result["skipped"],
                "left for the next run": result["deferred"],
                "corrections of refused claims": result["corrections"],
                "replacements or voids": result["replacements"]}))
    return result
