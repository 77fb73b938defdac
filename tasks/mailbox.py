"""Mailbox tasks: collect each payer's channels once a day, then route what came.

Not cached across runs: payers leave files at any time. Within a run (a dashboard Retry)
they are cached.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger, task

from revcycle.pipeline.batches import mailbox_batch
from revcycle.pipeline.directory import directory_for
from revcycle.pipeline.mailbox import collect_mailbox, route_mailbox
from revcycle.pipeline.resources import get_resources
from revcycle.pipeline.routing import Router
from tasks.channels import payer_route
from tasks.payers import load_payers
from tasks.policy import audited, in_stage, run_name, stage_task_options


@task(**stage_task_options("collect", across_runs=False))
def collect_task(payer_id: str, business_date: date) -> dict[str, Any]:
    result = in_stage(run_name("collect", {"payer_id": payer_id}), _collect, payer_id,
                      business_date)
    logger = get_run_logger()
    logger.info("collect %s: %d new files, %d collected before", payer_id,
                result["collected"], result["duplicates"])
    if result["unreachable"]:
        logger.warning("collect %s: channel %s could not be reached; its files wait there for"
                       " the next collect (check it with `revcycle payers check %s`)",
                       payer_id, ", ".join(result["unreachable"]), payer_id)
    return result


def _collect(payer_id: str, business_date: date) -> dict[str, Any]:
    res = get_resources()
    route = payer_route(load_payers()[payer_id], res.store)
    try:
        result = collect_mailbox(res, payer_id, route, business_date)
    finally:
        route.close()
    return audited(res, "collect", mailbox_batch(business_date), result)


@task(**stage_task_options("route", across_runs=False))
def route_task(business_date: date) -> dict[str, Any]:
    result = in_stage(run_name("route", {"business_date": business_date}), _route,
                      business_date)
    get_run_logger().info("route %s: %d files, %d sets routed, %d unrouted (revcycle queue"
                          " unrouted)", business_date, result["files"], result["routed"],
                          result["unrouted"])
    return result


def _route(business_date: date) -> dict[str, Any]:
    res = get_resources()
    router = Router(directory_for(res, load_payers().values()),
                    receiver_ids=(res.settings.sender_id,))
    return audited(res, "route", mailbox_batch(business_date),
                   route_mailbox(res, router, business_date))
