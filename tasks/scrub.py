"""Scrub task: each payer's rule set over a batch.

Cached on the batch's claims and the payer modules: a payer module added or fixed since
makes the claims that waited for it due again.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task

from revcycle.pipeline.resources import get_resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.scrub import DEFAULT_RULES
from tasks.payers import payer_registry
from tasks.policy import audited, batch_and_payer_work, in_stage, run_name, stage_task_options


@task(**stage_task_options("scrub", "batch_id", work=batch_and_payer_work))
def scrub_task(batch_id: str) -> dict[str, Any]:
    registry = payer_registry()
    payers = registry.payers
    rules = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in payers.items()}
    filing = {pid: payer.timely_filing_days for pid, payer in payers.items()}
    characters = {pid: payer.character_policy for pid, payer in payers.items()}
    result = in_stage(run_name("scrub", {"batch_id": batch_id}), scrub_batch, get_resources(),
                      batch_id, rules, filing, disabled_payers=registry.disabled(),
                      unloaded_modules=registry.unknown_broken(),
                      character_policies=characters)
    audited(get_resources(), "scrub", batch_id, result)
    logger = get_run_logger()
    logger.info("scrub %s: %d claims: %d ready, %d rejected, %d waiting for a payer module;"
                " %d warnings", batch_id, result["claims"], result["ready"],
                result["rejected"], result["waiting"], result["warnings"])
    if result["not_run"]:
        logger.info("scrub %s: rules not run (reference data not loaded): %s", batch_id,
                    ", ".join(result["not_run"]))
    return result
