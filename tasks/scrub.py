"""Scrub task: each payer's rule set over a batch."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task

from revcycle.pipeline.resources import get_resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.scrub import DEFAULT_RULES
from tasks.payers import load_payers
from tasks.policy import phi_safe_errors, stage_task_options


@task(**stage_task_options("scrub", "batch_id"))
def scrub_task(batch_id: str) -> dict[str, Any]:
    payers = load_payers()
    rules = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in payers.items()}
    filing = {pid: payer.timely_filing_days for pid, payer in payers.items()}
    with phi_safe_errors():
        result = scrub_batch(get_resources(), batch_id, rules, filing)
    get_run_logger().info("scrub %s: %d ready, %d rejected, %d warnings", batch_id,
                          result["ready"], result["rejected"], result["warnings"])
    return result
