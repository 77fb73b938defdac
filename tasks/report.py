"""Report task: the day's summary as a Prefect artifact and in each tenant's reports zone."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact

from revcycle.pipeline.report import day_report
from revcycle.pipeline.resources import get_resources
from tasks.policy import phi_safe_errors, stage_task_options


def _markdown(report: dict[str, Any]) -> str:
    lines = [f"# Revenue cycle {report['business_date']}", "",
             "| claims by status | count |", "|---|---:|"]
    lines += [f"| {status} | {count} |" for status, count in report["claims"]["by_status"]
              .items()]
    lines += ["", "| dollars | amount |", "|---|---:|"]
    lines += [f"| {name} | {amount} |" for name, amount in report["dollars"].items()]
    lines += ["", "| top edits | claims | held |", "|---|---:|---:|"]
    lines += [f"| {e['rule']} | {e['claims']} | {e['held']} |" for e in report["top_edits"]]
    lines += ["", "| top denial reasons | claims | amount |", "|---|---:|---:|"]
    lines += [f"| {d['carc']} | {d['count']} | {d['amount']} |"
              for d in report["top_denial_reasons"]]
    return "\n".join(lines)


@task(**{**stage_task_options("report"), "cache_key_fn": None})
def report_task(business_date: date, tenants: list[str]) -> dict[str, Any]:
    with phi_safe_errors():
        report = day_report(get_resources(), business_date, tenants)
    create_markdown_artifact(_markdown(report), key=f"run-report-{business_date:%Y%m%d}",
                             description="The day's claims, dollars, edits and denials")
    return report
