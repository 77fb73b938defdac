"""Posting task: a payer's 835s for a batch (not cached across runs, like acks)."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task

from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import get_resources
from tasks.policy import audited, in_stage, run_name, stage_task_options


@task(**stage_task_options("post", across_runs=False))
def post_task(batch_id: str, payer_id: str) -> dict[str, Any]:
    result = in_stage(run_name("post", {"batch_id": batch_id, "payer_id": payer_id}),
                      post_remittances, get_resources(), batch_id, payer_id)
    audited(get_resources(), "post", batch_id, result)
    get_run_logger().info("post %s from %s: %d remittances posted, %d held, %d exceptions",
                          batch_id, payer_id, result["remittances"], result["held"],
                          result["exceptions"])
    return result
