"""Submit tasks: the batch's 837s for every payer written in one step, then one step per
batch and payer that sends through the payer's channel."""

from __future__ import annotations

from typing import Any

from prefect import Task, get_run_logger, task
from prefect.runtime import flow_run

from revcycle.payers import payer_tag
from revcycle.pipeline.resources import get_resources
from revcycle.pipeline.submit import submit, write_submissions
from tasks.channels import payer_route
from tasks.payers import load_payers
from tasks.policy import audited, batch_and_payer_work, in_stage, run_name, stage_task_options


@task(**stage_task_options("submit", "batch_id", "payer_id", work=batch_and_payer_work))
def submit_task(batch_id: str, payer_id: str) -> dict[str, Any]:
    result = in_stage(run_name("submit", {"batch_id": batch_id, "payer_id": payer_id}),
                      _submit, batch_id, payer_id)
    audited(get_resources(), "submit", batch_id, result)
    get_run_logger().info("submit %s to %s: %d claims in %d files sent", batch_id, payer_id,
                          result["claims"], result["sent"])
    return result


@task(**stage_task_options("write", "batch_id", work=batch_and_payer_work))
def write_task(batch_id: str) -> dict[str, Any]:
    result = in_stage(run_name("write", {"batch_id": batch_id}), write_submissions,
                      get_resources(), batch_id, load_payers())
    audited(get_resources(), "write", batch_id, result)
    logger = get_run_logger()
    logger.info("write %s: %d claims in %d files for %d payers; %d refused by the writer",
                batch_id, result["claims"], result["files"], result["payers"],
                result["refused"])
    if result["left"]:
        logger.warning("write %s: files of %s not written here: their submit steps write"
                       " them and say why", batch_id, ", ".join(result["left"]))
    return result


def submit_to(payer_id: str) -> Task[..., dict[str, Any]]:
    """The submit task tagged ``payer:<id>``, so the payer's tag concurrency limit holds."""
    return submit_task.with_options(tags={payer_tag(payer_id)})


def _submit(batch_id: str, payer_id: str) -> dict[str, Any]:
    res = get_resources()
    payer = load_payers()[payer_id]
    # The flow run's id names this run in its claims on the submissions it sends.
    route = payer_route(payer, res.store)
    try:
        return submit(res, batch_id, payer, route, run_id=str(flow_run.id or ""))
    finally:
        route.close()
