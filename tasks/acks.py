"""Acknowledgment task: a payer's 999s and 277CAs for a batch.

Not cached across runs: answers arrive when the payer sends them, and re-reading finds
only the files not applied yet. Within a run (a retry from the dashboard) it is cached.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task

from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.resources import get_resources
from tasks.policy import audited, in_stage, run_name, stage_task_options


@task(**stage_task_options("acks", across_runs=False))
def acks_task(batch_id: str, payer_id: str) -> dict[str, Any]:
    result = in_stage(run_name("acks", {"batch_id": batch_id, "payer_id": payer_id}),
                      apply_acknowledgments, get_resources(), batch_id, payer_id)
    audited(get_resources(), "acks", batch_id, result)
    get_run_logger().info("acks %s from %s: %d new files, %d claims accepted, %d rejected",
                          batch_id, payer_id, result["files"], result["accepted"],
                          result["rejected"])
    return result
